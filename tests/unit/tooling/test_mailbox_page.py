"""The dev run's mailbox (collecte_kc.mailsink): mails listed newest first, each on a page of
its own with its headers, its HTML part rendered in a sandboxed frame and its text with links."""

from __future__ import annotations

from email.message import EmailMessage

from collecte_kc.mailsink import MailSink, render_index, render_message

LONG_LINK = "https://localhost:8080/realms/collecte/login-actions/action-token?key=" + "x" * 300


def mail(subject: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "kc@collecte.test", to, subject
    message["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
    message.set_content(f"Bonjour,\n\nSuivez ce lien : {LONG_LINK}\n")
    message.add_alternative(f'<p>Bonjour,</p><p><a href="{LONG_LINK}">Activer</a></p>', "html")
    return message


def sink_with(*messages: EmailMessage) -> MailSink:
    sink = MailSink()
    sink._messages.extend(messages)
    return sink


def test_the_index_lists_mails_newest_first_with_a_page_each() -> None:
    sink = sink_with(mail("Invitation", "marie@commune.fr"), mail("Sécurité", "paul@commune.fr"))
    page = render_index(sink).decode()
    assert page.index("Sécurité") < page.index("Invitation")
    assert '<a href="/message/2">Sécurité</a>' in page and '<a href="/message/1">' in page
    assert "http-equiv" not in page  # no timed reload


def test_a_mail_page_shows_headers_the_rendered_html_and_wrapped_links() -> None:
    page = render_message(sink_with(mail("Invitation", "marie@commune.fr")), 1)
    assert page is not None
    text = page.decode()
    assert "<dt>À</dt><dd>marie@commune.fr</dd>" in text and "<dt>Objet</dt>" in text
    assert '<iframe title="Contenu mis en forme de l’e-mail" sandbox srcdoc="&lt;p&gt;' in text
    assert f'<a href="{LONG_LINK}">' in text and "overflow-wrap:anywhere" in text
    assert render_message(sink_with(), 1) is None
