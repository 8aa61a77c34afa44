"""Mon espace: what a signed-in collection contact reads (Keycloak answers are mocked)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask.testing import FlaskClient

from portal.core.domain import RequestStatus
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import (
    SCOPE_A,
    SCOPE_B,
    SIREN_A,
    group_json,
    request_json,
    user_json,
)
from tests.helpers.pages import get_page, html
from tests.helpers.personas import MEMBER, TECHNICIAN

SignIn = Callable[[Mapping[str, Any]], None]
SignedIn = Callable[[dict[str, Any]], AdminApi]
COLLEAGUE = user_json(
    "c0000000-0000-4000-8000-00000000000c",
    "luc.collecte@demoville.fr",
    "Luc",
    "Collecte",
    collecte=[SCOPE_A],
    telephoneMobile=["+33612345678"],
)
PRINCIPAL_SENTENCE = (
    "Il n’est pas possible de modifier l’interlocuteur principal de collecte, qui apparaîtra "
    "toujours sous ce nom ; cela n’empêche pas les autres interlocuteurs de collecte de saisir "
    "les données."
)


# --- home and « Mon espace » ------------------------------------------------------------------


def test_home_links_to_the_member_space_when_signed_in(
    client: FlaskClient, sign_in_as: SignIn
) -> None:
    assert 'id="lien-espace"' not in client.get("/").get_data(as_text=True)
    sign_in_as(MEMBER)
    link = html(client.get("/")).by_id("lien-espace")
    assert (link.tag, link.attrs["href"], link.text()) == ("a", "/espace/", "Accéder à mon espace")


def test_identity_and_scopes(client: FlaskClient, member: AdminApi) -> None:
    member.adherent(SIREN_A)
    page = get_page(client, "/espace/")
    identity = page.by_id("mon-identite").text()
    assert "Votre identifiant marie.dupont@demoville.fr" in identity
    assert "Nom Dupont Prénom Marie" in identity
    assert "Téléphone fixe 02 99 00 00 00" in identity
    assert "Téléphone mobile +262 692 12 34 56" in identity
    # 1795881002 is 28/11/2026 15:50:02 UTC, 16:50 in Paris (winter time).
    assert "CGU acceptées le 28/11/2026 à 16:50 (heure de Paris)" in identity
    link = page.by_id("mes-perimetres").find("a", data_perimetre=SCOPE_A)
    assert link.attrs["href"] == "/espace/213500010/1/"
    assert link.text() == "SIREN 213500010 — Commune de Démoville — lot 1"


def test_unknown_adherent_shows_the_siren_alone(client: FlaskClient, signed_in: SignedIn) -> None:
    person = user_json("p-1", "nouvelle@demoville.fr", "Léa", "Nouvelle", collecte=[SCOPE_A])
    # An adherent group without a name (the member's own groups say which one).
    signed_in(person).groups[f"g-{SIREN_A}"] = {
        **group_json(SIREN_A),
        "attributes": {"lots": ["1"]},
    }
    page = get_page(client, "/espace/")
    assert page.find("a", data_perimetre=SCOPE_A).text() == "SIREN 213500010 — lot 1"
    identity = page.by_id("mon-identite").text()
    assert "CGU non acceptées" in identity
    assert "Téléphone fixe Non renseigné" in identity


def test_person_without_collection_scope(client: FlaskClient, signed_in: SignedIn) -> None:
    staff = user_json("s-1", "sam.support@collecte.fr", "Sam", "Support", technique=[SCOPE_A])
    signed_in(staff)  # and no adherent is looked up
    scopes = get_page(client, "/espace/").by_id("mes-perimetres")
    assert "Vous n’êtes interlocuteur de collecte pour aucun SIREN" in scopes.text()
    assert scopes.find("a").attrs["href"] == "/aide/connexion"
    assert not scopes.find_all(data_perimetre=SCOPE_A)


# --- one SIREN/lot ----------------------------------------------------------------------------


def test_scope_page(client: FlaskClient, member: AdminApi) -> None:
    proposed = user_json(
        "d-1",
        "nina.proposee@demoville.fr",
        "Nina",
        "Proposée",
        demandeCollecteSur=[SCOPE_A],
        demandesCollecte=[
            request_json("r-attente", 20),
            request_json(
                "r-refus",
                10,
                status=RequestStatus.REFUSED,
                reason="Personne inconnue",
                decided_by="s",
            ),
        ],
    )
    member.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    member.scope_contacts(
        SCOPE_A,
        collecte=[MEMBER, COLLEAGUE],
        technique=[TECHNICIAN],
        facturation=[TECHNICIAN],
        demandeCollecteSur=[proposed],
    )
    page = get_page(client, f"/espace/{SIREN_A}/1/")
    assert page.find("h1").text() == "SIREN 213500010 — Commune de Démoville — lot 1"

    principal = page.by_id("principal").text()
    assert "Marie Dupont" in principal and "marie.dupont@demoville.fr" in principal
    assert PRINCIPAL_SENTENCE in principal
    assert not page.by_id("principal").find_all("input")

    collection = page.by_id("collecte")
    assert not collection.find_all(data_personne=MEMBER["id"])
    colleague = collection.find("tr", data_personne=COLLEAGUE["id"]).text()
    assert colleague == "Luc Collecte luc.collecte@demoville.fr Mobile : 06 12 34 56 78"
    assert not collection.find_all("a", class_="modifier")

    text = page.by_id("contenu").text()
    assert (
        "cela ne lui donne pas accès à la plateforme, mais détermine respectivement "
        "l’interlocuteur qui sera contacté par l’opérateur de réseau en cas d’actions nécessaires "
        "sur les points de livraison ou celui qui sera destinataire des factures éditées"
    ) in text
    assert "demande d’ajout d’un « interlocuteur de collecte »" in text
    assert page.by_id("ajouter-contact").attrs["href"] == "/espace/213500010/1/contacts/nouveau"
    assert (
        page.by_id("demander-collecte").attrs["href"]
        == "/espace/demandes/nouvelle?perimetre=213500010/1"
    )

    base = f"/espace/213500010/1/contacts/{TECHNICIAN['id']}"
    for section in ("techniques", "facturation"):
        row = page.by_id(section).find("tr", data_personne=TECHNICIAN["id"])
        assert "Jean Technicien jean.technicien@demoville.fr Fixe : 02 99 00 00 01" in row.text()
        assert row.find("a", class_="modifier").attrs["href"] == f"{base}/modifier"
        removal = row.find("form", class_="retirer")
        assert (removal.attrs["method"], removal.attrs["action"]) == ("post", f"{base}/retirer")
        assert removal.find("input", name="csrf_token").attrs["value"]
        assert removal.find("button").text().startswith("Retirer")
        assert row.find("a", class_="proposer").attrs["href"] == (
            f"/espace/demandes/nouvelle?perimetre=213500010/1&personne={TECHNICIAN['id']}"
        )

    requests = page.by_id("demandes")
    pending = requests.find("tr", data_demande="r-attente").text()
    assert pending == (
        "Nina Proposée nina.proposee@demoville.fr 20/11/2026 à 10:30 (heure de Paris) "
        "marie.dupont@demoville.fr En attente"
    )
    refused = requests.find("tr", data_demande="r-refus").text()
    assert refused.endswith("Refusée Motif : Personne inconnue")


def test_scope_page_without_principal(client: FlaskClient, member: AdminApi) -> None:
    member.adherent(SIREN_A)
    member.scope_contacts(SCOPE_A, collecte=[MEMBER])
    page = get_page(client, f"/espace/{SIREN_A}/1/")
    principal = page.by_id("principal").text()
    assert "Aucun interlocuteur principal de collecte n’est encore enregistré" in principal
    assert PRINCIPAL_SENTENCE in principal
    assert "Aucun interlocuteur technique n’est défini" in page.by_id("techniques").text()
    assert "Aucune demande" in page.by_id("demandes").text()


def test_principal_stays_after_losing_the_function(client: FlaskClient, member: AdminApi) -> None:
    former = user_json("f-1", "ancien@demoville.fr", "Ancien", "Principal")
    member.adherent(SIREN_A, group_json(SIREN_A, lot_1=former["id"]))
    member.scope_contacts(SCOPE_A, collecte=[MEMBER])
    member.person(former)
    page = get_page(client, f"/espace/{SIREN_A}/1/")
    assert (
        "Nom Ancien Principal Adresse e-mail ancien@demoville.fr" in page.by_id("principal").text()
    )
    assert page.by_id("collecte").find("tr", data_personne=MEMBER["id"])


def test_no_proposal_for_someone_already_collection_contact(
    client: FlaskClient, member: AdminApi
) -> None:
    both = {**COLLEAGUE, "attributes": {**COLLEAGUE["attributes"], "technique": [SCOPE_A]}}
    member.adherent(SIREN_A)
    member.scope_contacts(SCOPE_A, collecte=[MEMBER, both], technique=[both])
    page = get_page(client, f"/espace/{SIREN_A}/1/")
    row = page.by_id("techniques").find("tr", data_personne=both["id"])
    assert not row.find_all("a", class_="proposer")
    assert "Déjà interlocuteur de collecte" in row.text()


# --- forms, first display ---------------------------------------------------------------------


def test_new_contact_form(client: FlaskClient, member: AdminApi) -> None:
    page = get_page(client, f"/espace/{SIREN_A}/1/contacts/nouveau")
    form = page.find("form", class_="formulaire")
    assert form.attrs["method"] == "post" and "novalidate" in form.attrs
    for name in ("nom", "prenom", "email", "telephone_fixe", "telephone_mobile"):
        assert form.find("input", name=name).attrs["value"] == ""
    assert form.find("fieldset", class_="champ").find("legend").text() == "Fonction(s)"
    boxes = form.find_all("input", name="fonctions")
    assert [b.attrs["value"] for b in boxes] == ["technique", "facturation"]
    assert not [b for b in boxes if "checked" in b.attrs]
    assert form.find("input", name="csrf_token").attrs["value"]


def test_edit_form_is_prefilled(client: FlaskClient, member: AdminApi) -> None:
    member.person(TECHNICIAN)
    page = get_page(client, f"/espace/{SIREN_A}/1/contacts/{TECHNICIAN['id']}/modifier")
    form = page.find("form", class_="formulaire")
    values = {name: form.find("input", name=name).attrs["value"] for name in ("nom", "prenom")}
    assert values == {"nom": "Technicien", "prenom": "Jean"}
    assert form.find("input", name="telephone_fixe").attrs["value"] == "02 99 00 00 01"
    assert not form.find_all("input", name="email")
    assert form.by_id("email-lecture").text() == "jean.technicien@demoville.fr"
    assert "L’adresse e-mail est l’identifiant de la personne" in form.text()
    assert all("checked" in box.attrs for box in form.find_all("input", name="fonctions"))


def test_request_form_prefilled_from_a_contact(client: FlaskClient, member: AdminApi) -> None:
    member.person(TECHNICIAN)
    member.adherent(SIREN_A)
    page = get_page(
        client, f"/espace/demandes/nouvelle?perimetre={SCOPE_A}&personne={TECHNICIAN['id']}"
    )
    text = page.by_id("contenu").text()
    assert "son nom, son prénom" in text
    assert "son numéro de téléphone (fixe et/ou mobile), ainsi que le SIREN et le lot" in text
    assert "il n’est pas possible de modifier l’interlocuteur principal de collecte" in text
    form = page.find("form", class_="formulaire")
    assert form.find("input", name="email").attrs["value"] == "jean.technicien@demoville.fr"
    assert form.find("input", name="telephone_fixe").attrs["value"] == "02 99 00 00 01"
    option = form.find("select", name="perimetre").find("option")
    assert (option.attrs["value"], "selected" in option.attrs) == (SCOPE_A, True)
    assert option.text() == "SIREN 213500010 — Commune de Démoville — lot 1"


def test_request_form_offers_the_members_own_scopes_only(
    client: FlaskClient, signed_in: SignedIn
) -> None:
    two_lots = {**MEMBER, "attributes": {"collecte": [SCOPE_A, "213500010/2"]}}
    signed_in(two_lots).adherent(SIREN_A)

    def options(query: str) -> list[tuple[str, bool]]:
        select = get_page(client, f"/espace/demandes/nouvelle{query}").find("select")
        return [(o.attrs["value"], "selected" in o.attrs) for o in select.find_all("option")]

    assert options("") == [("", False), (SCOPE_A, False), ("213500010/2", False)]
    assert options("?perimetre=213500010/2") == [
        ("", False),
        (SCOPE_A, False),
        ("213500010/2", True),
    ]
    assert options(f"?perimetre={SCOPE_B}") == options("")
