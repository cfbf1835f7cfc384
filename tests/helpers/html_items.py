"""An order's lines as a page renders them, read the way a person or a screen reader meets
them: each list item's text, the part of it struck through, and the accessible names
(`aria-label`) inside it. For marks that must be said in words, not by a strike or a colour
alone (a refunded line on the diner's page, a sold-out dish on a kitchen ticket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

STRUCK = ("del", "s")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # no end tag: not counted as open


@dataclass
class Item:
    attrs: dict[str, str]
    text: str = ""
    struck: str = ""  # the text inside <del> or <s>
    labels: list[str] = field(default_factory=list)  # aria-label values inside it, its own too

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class _Items(HTMLParser):
    def __init__(self, class_name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.class_name = class_name
        self.items: list[Item] = []
        self.current: Item | None = None
        self.depth = 0  # open elements inside the current item
        self.struck = 0  # open <del>/<s> inside it
        self.text: list[str] = []
        self.struck_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if self.current is None:
            if tag == "li" and self.class_name in values.get("class", "").split():
                self.current, self.depth = Item(values), 0
                self.text, self.struck_text = [], []
                if values.get("aria-label"):
                    self.current.labels.append(values["aria-label"])
            return
        if values.get("aria-label"):
            self.current.labels.append(values["aria-label"])
        if tag in VOID:
            return
        self.depth += 1
        if tag in STRUCK:
            self.struck += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.current is not None:  # "<br/>": opens nothing
            self.current.labels += [value for name, value in attrs if name == "aria-label"
                                    and value]

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if self.depth == 0 and tag == "li":
            self.current.text = " ".join("".join(self.text).split())
            self.current.struck = " ".join(" ".join(self.struck_text).split())
            self.items.append(self.current)
            self.current = None
            return
        self.depth -= 1
        if tag in STRUCK:
            self.struck -= 1

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.text.append(data)
            if self.struck:
                self.struck_text.append(data)


def items_of(html: str, class_name: str) -> list[Item]:
    """Every `<li>` of `html` whose classes include `class_name`, in document order."""
    parser = _Items(class_name)
    parser.feed(html)
    parser.close()
    return parser.items
