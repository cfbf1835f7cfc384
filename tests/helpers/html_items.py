"""An order's lines as a page renders them, read the way a person or a screen reader meets
them: each list item's text, the part of it struck through, and the accessible names
(`aria-label`) inside it. For marks that must be said in words, not by a strike or a colour
alone (a refunded line on the diner's page, a sold-out dish on a kitchen ticket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

STRUCK = ("del", "s")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # no end tag: never open


@dataclass
class Item:
    attrs: dict[str, str]
    ref: str = ""  # the nearest enclosing element's `data-ref` (a kitchen ticket's order)
    text: str = ""
    struck: str = ""  # the text inside <del> or <s>
    labels: list[str] = field(default_factory=list)  # aria-label values inside it, its own too


class _Items(HTMLParser):
    def __init__(self, list_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.list_class = list_class
        self.items: list[Item] = []
        self.open: list[tuple[str, dict[str, str]]] = []  # the elements open here
        self.current: Item | None = None
        self.start = 0  # where the current item's <li> sits in `open`
        self.text: list[str] = []
        self.struck: list[str] = []

    def _in_list(self) -> bool:
        return bool(self.open) and self.open[-1][0] in ("ul", "ol") \
            and self.list_class in self.open[-1][1].get("class", "").split()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "li" and self.current is None and self._in_list():
            ref = next((element["data-ref"] for _tag, element in reversed(self.open)
                        if element.get("data-ref")), "")
            self.current, self.start = Item(values, ref=ref), len(self.open)
            self.text, self.struck = [], []
        if self.current is not None and values.get("aria-label"):
            self.current.labels.append(values["aria-label"])
        if tag not in VOID:
            self.open.append((tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.current is not None:  # "<br/>": opens nothing
            self.current.labels += [value for name, value in attrs if name == "aria-label"
                                    and value]

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break
        else:
            return
        if self.current is not None and len(self.open) <= self.start:
            self.current.text = " ".join("".join(self.text).split())
            self.current.struck = " ".join(" ".join(self.struck).split())
            self.items.append(self.current)
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is None:
            return
        self.text.append(data)
        if any(tag in STRUCK for tag, _attrs in self.open[self.start + 1:]):
            self.struck.append(data)


def items_of(html: str, list_class: str) -> list[Item]:
    """The items of every list (`<ul>`, `<ol>`) in `html` whose classes include
    `list_class`, in document order."""
    parser = _Items(list_class)
    parser.feed(html)
    parser.close()
    return parser.items
