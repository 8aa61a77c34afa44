"""Our Keycloak providers' sources, without a server: registration, names, French messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

from collecte_kc import coordinators
from collecte_kc.paths import PROVIDERS_DIR, REALM_FILE, THEMES_DIR, USER_PROFILE_FILE
from collecte_kc.provision import CGU_VERSION_ATTRIBUTE
from portal.domain import CURRENT_TERMS_VERSION, INVITATION_SENT, TERMS_VERSION, Function

SOURCES = PROVIDERS_DIR / "src" / "main"
JAVA = SOURCES / "java"
SERVICES = SOURCES / "resources" / "META-INF" / "services"
LOGIN_MESSAGES = THEMES_DIR / "collecte" / "login" / "messages" / "messages_fr.properties"
HANDLER = JAVA / "fr" / "collecte" / "keycloak" / "LatestInvitationActionTokenHandler.java"
TERMS = JAVA / "fr" / "collecte" / "keycloak" / "VersionedTermsAndConditions.java"
PASSWORD_POLICY = JAVA / "fr" / "collecte" / "keycloak" / "PasswordChosenByUserPolicy.java"
HASHED_GUARD = (
    JAVA / "fr" / "collecte" / "keycloak" / "PasswordSetByUserCredentialProviderFactory.java"
)
TERMS_TEMPLATE = THEMES_DIR / "collecte" / "login" / "terms.ftl"


def _messages() -> dict[str, str]:
    entries = {}
    for line in LOGIN_MESSAGES.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            entries[key.strip()] = value.strip()
    return entries


def _java_sources() -> dict[Path, str]:
    return {path: path.read_text("utf-8") for path in sorted(JAVA.rglob("*.java"))}


def _constant(source: str, name: str) -> str:
    match = re.search(rf'static final String {name} = "([^"]*)";', source)
    assert match, name
    return match.group(1)


def test_services_files_register_our_providers_under_the_spi_interfaces():
    """Keycloak finds factories with ServiceLoader, one file per SPI factory interface."""
    registered = {path.name: path.read_text("utf-8").split() for path in sorted(SERVICES.iterdir())}
    assert registered == {
        "org.keycloak.authentication.AuthenticatorFactory": [
            "fr.collecte.keycloak.PaddedResetCredentialEmail",
            "fr.collecte.keycloak.NoPerimeterCondition",
        ],
        "org.keycloak.protocol.ProtocolMapper": ["fr.collecte.keycloak.PerimetersProtocolMapper"],
        "org.keycloak.authentication.actiontoken.ActionTokenHandlerFactory": [
            "fr.collecte.keycloak.LatestInvitationActionTokenHandler"
        ],
        "org.keycloak.authentication.RequiredActionFactory": [
            "fr.collecte.keycloak.VersionedTermsAndConditions"
        ],
        "org.keycloak.events.EventListenerProviderFactory": [
            "fr.collecte.keycloak.CoordinatorPermissionsListener",
            "fr.collecte.keycloak.SessionRevocationListener",
            "fr.collecte.keycloak.RevisionListener",
        ],
        "org.keycloak.credential.CredentialProviderFactory": [
            "fr.collecte.keycloak.PasswordSetByUserCredentialProviderFactory"
        ],
        "org.keycloak.policy.PasswordPolicyProviderFactory": [
            "fr.collecte.keycloak.PasswordChosenByUserPolicy"
        ],
        "org.keycloak.validate.ValidatorFactory": [
            "fr.collecte.keycloak.FunctionsInOwnGroupementValidator",
            "fr.collecte.keycloak.PortalRecordValidator",
            "fr.collecte.keycloak.ProtectedEmailValidator",
            "fr.collecte.keycloak.RevisionValidator",
        ],
        "org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory": [
            "fr.collecte.keycloak.RevisionedGroupResource"
        ],
    }
    for classes in registered.values():
        for name in classes:
            assert (JAVA / (name.replace(".", "/") + ".java")).is_file(), name


def test_the_permissions_listener_writes_what_the_provisioning_writes():
    """Same names and scopes on both sides; that the shapes agree is proven against Keycloak
    (tests/integration/test_coordinators.py: `synchroniser` finds nothing left to change)."""
    source = (JAVA / "fr/collecte/keycloak/CoordinatorPermissionsListener.java").read_text("utf-8")
    assert _constant(source, "USER_MANAGERS_POLICY") == coordinators.USER_MANAGERS_POLICY
    scopes = ", ".join(f'"{scope}"' for scope in coordinators.PRINCIPAL_SCOPES)
    assert f"PRINCIPAL_SCOPES = List.of({scopes});" in source
    assert '"coordonnateurs " + code + " : membres du groupement"' in source
    assert '"interlocuteur principal " + userId' in source
    assert "public boolean isGlobal() {\n        return true;" in source


def test_invitation_handler_replaces_keycloaks_and_reads_the_portals_attribute():
    source = HANDLER.read_text("utf-8")
    assert "extends ExecuteActionsActionTokenHandler" in source
    # Same provider id as the built-in handler (inherited), and a higher order() than its 0.
    assert "String getId()" not in source
    assert re.search(r"public int order\(\) \{\s*return [1-9]\d*;", source)
    assert _constant(source, "INVITATION_SENT") == INVITATION_SENT


def test_replaced_invitation_message_is_in_french():
    # Messages go through java.text.MessageFormat: an apostrophe is written ''.
    value = _messages()["collecteInvitationRemplacee"]
    assert re.search(r"(?<!')'(?!')", value) is None, "apostrophe simple : MessageFormat l'efface"
    assert value.replace("''", "'") == (
        "Ce lien d'invitation a été remplacé par un plus récent : utilisez le dernier e-mail "
        "d'invitation reçu, ou demandez-en un nouveau au support."
    )


def test_every_message_key_our_java_code_uses_is_defined_in_french():
    """Message keys are `*_MESSAGE` constants, or literals given to msg(...)."""
    messages = _messages()
    used = {}
    for path, source in _java_sources().items():
        keys = re.findall(r'static final String \w*MESSAGE = "([^"]+)";', source)
        keys += re.findall(r'\bmsg\("([^"]+)"', source)
        used.update(dict.fromkeys(keys, path.name))
    assert "collecteInvitationRemplacee" in used
    missing = {key: where for key, where in used.items() if key not in messages}
    assert not missing


def test_terms_action_replaces_keycloaks_and_shares_the_names_of_the_portal_and_provisioning():
    source = TERMS.read_text("utf-8")
    assert "extends TermsAndConditions" in source
    # Same provider id as the built-in action (inherited: TERMS_AND_CONDITIONS), higher order().
    assert "String getId()" not in source
    assert re.search(r"public int order\(\) \{\s*return [1-9]\d*;", source)
    assert _constant(source, "REALM_VERSION") == CGU_VERSION_ATTRIBUTE == CURRENT_TERMS_VERSION
    assert _constant(source, "ACCEPTED_VERSION") == TERMS_VERSION
    # Who may get a session, as the realm's flows decide it (the authority rule, or staff).
    assert "Perimeters.any(user)" in source
    assert _constant(source, "STAFF_ROLE") == "equipe-plateforme"


def test_one_authority_rule_for_the_flows_the_sessions_and_the_claims():
    """The sign-in condition, the end of sessions and the claims read the same Java rule, whose
    names are the schema's (and the portal's: portal/authority.py, portal/gateway.py)."""
    keycloak = JAVA / "fr" / "collecte" / "keycloak"
    for name in ("NoPerimeterCondition", "SessionRevocationListener"):
        assert "Perimeters.any(user)" in (keycloak / f"{name}.java").read_text("utf-8")
    assert "Perimeters.of(user)" in (keycloak / "PerimetersProtocolMapper.java").read_text("utf-8")
    rule = (keycloak / "Perimeters.java").read_text("utf-8")
    assert _constant(rule, "RAISON_SOCIALE") == "raisonSociale"
    assert _constant(rule, "PRINCIPAL_PREFIX") == "principal."
    for name in ("COLLECTION", "LOTS", "COORDINATORS_GROUP"):
        assert f"CollecteSchema.{name}" in rule


def test_terms_page_shows_and_posts_back_the_version_the_action_sets():
    source, template = TERMS.read_text("utf-8"), TERMS_TEMPLATE.read_text("utf-8")
    shown, updated = _constant(source, "SHOWN_VERSION"), _constant(source, "UPDATED")
    assert f'msg("collecteCguVersion", {shown})' in template
    assert f'<input type="hidden" name="{shown}" value="${{{shown}}}"/>' in template
    assert f"<#if {updated}!false>" in template
    # The parent's buttons, whose names the action reads (accept / cancel).
    assert (
        'name="accept" id="kc-accept"' in template and 'name="cancel" id="kc-decline"' in template
    )


def test_terms_version_messages_are_in_french():
    messages = _messages()
    assert messages["collecteCguVersion"] == "Version {0} des CGU"
    assert messages["collecteCguMiseAJour"].startswith("Les CGU ont été mises à jour")
    for key in ("collecteCguVersion", "collecteCguMiseAJour"):
        assert re.search(r"(?<!')'(?!')", messages[key]) is None, key


def test_password_policy_is_in_the_realms_policy_under_its_id():
    source = PASSWORD_POLICY.read_text("utf-8")
    assert "implements PasswordPolicyProvider, PasswordPolicyProviderFactory" in source
    policy_id = _constant(source, "PROVIDER_ID")
    realm = json.loads(REALM_FILE.read_text("utf-8"))
    policies = [part.strip() for part in realm["passwordPolicy"].split(" and ")]
    assert policy_id in policies
    # Keycloak's own rules stay (the user's own pages still go through them).
    assert {"length(12)", "notUsername", "notEmail", "passwordHistory(5)"} <= set(policies)


def test_password_policy_allows_user_managers_and_the_users_own_pages_only():
    source = PASSWORD_POLICY.read_text("utf-8")
    # The caller is the Admin API's bearer token; none on the user's own pages.
    assert "session.getContext().getBearerToken()" in source
    assert re.search(r"if \(bearer == null\) \{\s*return null;", source)
    assert "AdminRoles.MANAGE_USERS" in source and "caller.hasRole(manageUsers)" in source
    assert "Constants.REALM_MANAGEMENT_CLIENT_ID" in source and "getMasterAdminClient()" in source


def test_password_policy_refusal_is_a_french_sentence_the_admin_api_shows_as_is():
    """The Admin API formats the policy's message with MessageFormat, looked up in the admin
    theme (ours has none): the message itself is the sentence shown."""
    source = PASSWORD_POLICY.read_text("utf-8")
    match = re.search(r'REFUSAL_TEXT = "([^"]*)"\s*\+\s*"([^"]*)";', source)
    assert match
    text = match.group(1) + match.group(2)
    assert text == (
        "Seul l’utilisateur choisit son mot de passe : envoyez-lui l’e-mail d’invitation, ou "
        "laissez-le utiliser « Mot de passe oublié »."
    )
    assert "'" not in text and "{" not in text, "MessageFormat effacerait ' et lirait { }"


def test_hashed_password_guard_replaces_keycloaks_provider_with_the_policys_rule():
    source = HASHED_GUARD.read_text("utf-8")
    assert "extends PasswordCredentialProviderFactory" in source
    # Same provider id as the built-in factory (inherited: keycloak-password), higher order().
    assert "String getId()" not in source
    assert re.search(r"public int order\(\) \{\s*return [1-9]\d*;", source)
    # Every stored password goes through this method; the refusal is the policy's own.
    assert "public CredentialModel createCredential(RealmModel realm, UserModel user," in source
    assert "PasswordChosenByUserPolicy.refusal(session, realm, user)" in source
    assert "throw new PasswordPolicyNotMetException(refusal" in source


# --- user-profile validators (their behaviour: tests/integration/test_coordinator_writes.py) ---

PROFILE = json.loads(USER_PROFILE_FILE.read_text("utf-8"))
SCHEMA = (JAVA / "fr/collecte/keycloak/CollecteSchema.java").read_text("utf-8")


def _validator_id(name: str) -> str:
    return _constant((JAVA / f"fr/collecte/keycloak/{name}.java").read_text("utf-8"), "ID")


def _java_list(source: str, name: str) -> list[str]:
    match = re.search(rf"List<String> {name} = List\.of\(([^)]*)\);", source)
    assert match, name
    items = [item.strip() for item in match.group(1).split(",")]
    return [item.strip('"') if item.startswith('"') else _constant(source, item) for item in items]


def _validated_by(validator: str) -> set[str]:
    return {a["name"] for a in PROFILE["attributes"] if validator in a.get("validations", {})}


def test_the_user_profile_applies_each_validator_to_the_attributes_named_in_the_schema():
    """The Java constants and the profile name the same attributes: a renamed attribute would
    silently lose its rule."""
    functions = _java_list(SCHEMA, "FUNCTIONS")
    assert functions == [f.value for f in Function] == ["collecte", "technique", "facturation"]
    assert _validated_by(_validator_id("FunctionsInOwnGroupementValidator")) == set(functions)
    records = _java_list(SCHEMA, "PORTAL_RECORDS")
    assert _validated_by(_validator_id("PortalRecordValidator")) == set(records)
    assert INVITATION_SENT in records
    assert _validated_by(_validator_id("ProtectedEmailValidator")) == {"email"}


def test_the_validators_refusals_are_sentences_the_admin_api_returns_as_is():
    """No ASCII apostrophe nor brace, which message formatting would eat or read."""
    for name in (
        "FunctionsInOwnGroupementValidator",
        "PortalRecordValidator",
        "ProtectedEmailValidator",
    ):
        source = (JAVA / f"fr/collecte/keycloak/{name}.java").read_text("utf-8")
        sentences = re.findall(r'static final String [A-Z_]+ = ((?:"[^"]*"\s*\+?\s*)+);', source)
        assert sentences, name
        for sentence in sentences:
            assert "'" not in sentence and "{" not in sentence, (name, sentence)
