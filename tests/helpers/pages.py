"""Reading the portal's pages as a reader does: a small DOM, field errors, flashed messages,
and the accessibility rules every page keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from itertools import pairwise

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

_VOID_ELEMENTS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "wbr"})


class Element:
    """A parsed HTML element: enough of a DOM to find things the way a reader does."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.children: list[Element | str] = []

    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag and these attributes (``class_``: one of the classes;
        ``data_x``/``aria_x``: ``data-x``/``aria-x``)."""

        def matches(element: Element) -> bool:
            for name, wanted in attrs.items():
                key = name.rstrip("_").replace("_", "-")
                value = element.attrs.get(key)
                found = value.split() if key == "class" and value is not None else [value]
                if wanted not in found:
                    return False
            return tag is None or element.tag == tag

        return [element for element in self.iter() if matches(element)]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} × <{tag} {attrs}>"
        return found[0]

    def by_id(self, element_id: str) -> Element:
        return self.find(id=element_id)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", [])
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, attrs)
        self.open[-1].children.append(element)
        if tag not in _VOID_ELEMENTS:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def html(response: TestResponse) -> Element:
    builder = _TreeBuilder()
    builder.feed(response.get_data(as_text=True))
    builder.close()
    return builder.root


def assert_accessible(page: Element) -> None:
    """Headings in order from one h1, unique ids, a label for each field, check boxes grouped
    in a fieldset with a legend, table headers with a scope."""
    levels = [int(e.tag[1]) for e in page.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels[:1] == [1] and levels.count(1) == 1, levels
    assert all(after <= before + 1 for before, after in pairwise(levels)), levels
    ids = [e.attrs["id"] for e in page.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), ids
    labelled = {e.attrs.get("for") for e in page.find_all("label")}
    fields = [e for e in page.iter() if e.tag in ("input", "select", "textarea")]
    for field in fields:
        if field.attrs.get("type") != "hidden":
            assert field.attrs.get("id") in labelled, field.attrs
    grouped = [
        box
        for fieldset in page.find_all("fieldset")
        if fieldset.find_all("legend")
        for box in fieldset.find_all("input", type="checkbox")
    ]
    assert len(grouped) == len(page.find_all("input", type="checkbox"))
    assert all(th.attrs.get("scope") in ("col", "row") for th in page.find_all("th"))


def get_page(client: FlaskClient, url: str) -> Element:
    """GET a page that must answer 200 and pass :func:`assert_accessible`."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = html(response)
    assert_accessible(page)
    return page


def assert_field_error(response: TestResponse, field: str, message: str) -> Element:
    """A form that did not go through: ``message`` beside ``field``, announced with it, and in
    the summary at the top of the page."""
    page = html(response)
    assert_accessible(page)
    error = page.by_id(f"{field}-erreur")
    assert error.text() == message
    [block] = [b for b in page.find_all(class_="champ") if error in b.iter()]
    inputs = block.find_all(name=field)
    assert inputs, f"{field} is not beside its error"
    for element in inputs:
        assert f"{field}-erreur" in element.attrs["aria-describedby"].split()
        assert element.attrs["aria-invalid"] == "true"
    assert message in page.find("div", class_="resume-erreurs").text()
    assert page.find("title").text().startswith("Erreur : ")
    return page


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return [(category, message) for category, message in sess.get("_flashes", [])]
