"""Turn an HTML email body into the plain text deskpulse reads: `html_to_text` is the one entry point.

Paragraphs and line breaks survive, list items become "- " lines, and quoted history (<blockquote>, Gmail's
gmail_quote, Outlook's reply header and what follows it) becomes "> " lines, so `split_reply` treats HTML
and plain-text mail the same way. Broken HTML never raises: the result is the best text we can get.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Never rendered, or not text at all.
_SKIPPED = frozenset(
    {"head", "title", "script", "style", "noscript", "template", "meta", "link", "svg", "math", "object",
     "iframe", "embed", "canvas", "audio", "video", "select", "datalist", "img", "map", "area", "input",
     "button", "textarea"}
)  # fmt: skip
_NONE, _LINE_BREAK, _PARAGRAPH_BREAK = 0, 1, 2
# Block elements and the break around them: a blank line (paragraphs) or a line break.
_BREAKS = dict.fromkeys(
    ("p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "hr", "figure",
     "fieldset", "form", "address"),
    _PARAGRAPH_BREAK,
) | dict.fromkeys(
    ("div", "li", "tr", "dd", "dt", "section", "article", "header", "footer", "main", "nav", "aside",
     "center", "caption", "figcaption", "details", "summary", "legend", "tbody", "thead", "tfoot", "body",
     "html", "option", "optgroup"),
    _LINE_BREAK,
)  # fmt: skip
_CELL = frozenset({"td", "th"})

# <div>s after which everything is history: Outlook puts its reply header there and the previous message
# follows as siblings, not children. (Also class "OutlookMessageHeader". Quote containers, whose content is
# quoted, are <div>s of class "gmail_quote", "yahoo_quoted" or Thunderbird's "moz-cite-prefix".)
_HISTORY_START_IDS = frozenset({"appendonsend", "divRplyFwdMsg", "mail-editor-reference-message-container"})

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
_TAG = re.compile(r"<[^>]*>")
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Plain text of an HTML email body: blocks on their own lines, quoted history as "> " lines.

    Never raises; on HTML the tree walk cannot handle, falls back to the parser's flat text and then to
    stripping tags.
    """
    if not html or html.isspace():
        return ""
    try:
        return _render(html)
    except Exception:  # the promise is best-effort text, never an exception during ingest
        return _fallback(html)


def _render(html: str) -> str:
    root = LexborHTMLParser(html).root
    if root is None:
        return ""
    writer = _Writer(check_hidden="display" in html)
    _walk(root, writer, 0, 0, False, 0)
    return writer.result()


class _Writer:
    """Collects (quote depth, text) lines; inline text is joined with single spaces, as a browser would."""

    __slots__ = (
        "blank_wanted", "check_hidden", "history", "line", "line_depth", "lines", "marker_only", "space_wanted"
    )  # fmt: skip

    def __init__(self, check_hidden: bool) -> None:
        self.check_hidden = check_hidden  # look for style="display:none" (costs an attribute read per element)
        self.history = 0  # 1 once past Outlook's reply header: everything from there on is quoted
        self.lines: list[tuple[int, str]] = []
        self.line: list[str] = []
        self.line_depth = 0
        self.space_wanted = False
        self.blank_wanted = False
        self.marker_only = False  # the current line holds only a list marker so far

    def text(self, text: str, depth: int) -> None:
        """Inline text: whitespace collapses to one space, none at the start of a line."""
        words = text.split()
        if not words:
            if self.line:
                self.space_wanted = True
            elif "\xa0" in text:  # "<p>&nbsp;</p>": how Outlook and Gmail write an empty line
                self.line_break(keep_empty=True, depth=depth)
            return
        if not self.line:
            self._start_line(depth)
        elif (self.space_wanted or text[0].isspace()) and not self.marker_only:
            self.line.append(" ")
        self.line.append(" ".join(words))
        self.marker_only = False
        self.space_wanted = text[-1].isspace()

    def preformatted(self, text: str, depth: int) -> None:
        """Text inside <pre>: spaces and line breaks kept."""
        for n, piece in enumerate(text.split("\n")):
            if n:
                self.line_break(keep_empty=True, depth=depth)
            if piece:
                if not self.line:
                    self._start_line(depth)
                self.line.append(piece)
                self.marker_only = False

    def start_list_item(self, marker: str, depth: int) -> None:
        self.line_break()
        self._start_line(depth)
        self.line.append(marker)
        self.marker_only = True

    def end_list_item(self) -> None:
        if self.marker_only:  # an empty item: drop its marker
            self.line = []
            self.marker_only = False
        self.line_break()

    def line_break(self, keep_empty: bool = False, depth: int = 0) -> None:
        """End the current line; with keep_empty (a <br>), an empty line counts too."""
        if self.marker_only:  # "<li><p>item</p></li>": the item's text still belongs after the marker
            return
        if self.line:
            self.lines.append((self.line_depth, "".join(self.line).rstrip()))
            self.line = []
        elif keep_empty:
            self.lines.append((depth, ""))
            self.blank_wanted = False
        self.space_wanted = False

    def paragraph_break(self) -> None:
        if not self.marker_only:
            self.line_break()
            self.blank_wanted = True

    def _start_line(self, depth: int) -> None:
        if self.blank_wanted:
            if self.lines and self.lines[-1][1]:
                self.lines.append((min(depth, self.lines[-1][0]), ""))
            self.blank_wanted = False
        self.line_depth = depth

    def result(self) -> str:
        self.marker_only = False
        self.line_break()
        rendered: list[str] = []
        previous_blank = True  # also drops blank lines at the start
        for depth, text in self.lines:
            if not text or text.isspace():
                if not previous_blank:
                    rendered.append(">" * depth)
                    previous_blank = True
                continue
            previous_blank = False
            rendered.append(f"{'>' * depth} {text}" if depth else text)
        while rendered and not rendered[-1].strip(">"):
            rendered.pop()
        out = "\n".join(rendered)
        if not out.isascii():  # str.translate would be simpler, and is 50 times slower
            for char in _ZERO_WIDTH:
                if char in out:
                    out = out.replace(char, "")
        return out


def _walk(node: LexborNode, writer: _Writer, depth: int, floor: int, pre: bool, lists: int) -> None:
    """Render the children of `node`. Recursive: fastest in Python. Hitting the recursion limit (elements
    nested some 450 deep, seen only in broken or hostile HTML) makes `html_to_text` fall back to flat text.

    depth counts enclosing <blockquote>s; floor is the least depth a quote container imposes on its content.
    """
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            text = child.text_content
            if text:
                level = max(depth, floor, writer.history)
                if pre:
                    writer.preformatted(text, level)
                else:
                    writer.text(text, level)
        elif tag and tag not in _SKIPPED and tag[0] not in "-!":  # not a comment or doctype
            _element(child, tag, writer, depth, floor, pre, lists)
        child = child.next


def _element(node: LexborNode, tag: str, writer: _Writer, depth: int, floor: int, pre: bool, lists: int) -> None:
    if tag == "br":
        writer.line_break(keep_empty=True, depth=max(depth, floor, writer.history))
        return
    if writer.check_hidden:
        style = node.attributes.get("style")
        if style and _HIDDEN_STYLE.search(style):
            return
    brk = _BREAKS.get(tag, _NONE)
    if brk == _NONE:
        if tag in _CELL and writer.line:
            writer.space_wanted = True
        _walk(node, writer, depth, floor, pre, lists)
        return
    if tag == "div":
        classes = node.attributes.get("class") or ""
        if node.id in _HISTORY_START_IDS or "OutlookMessageHeader" in classes:
            writer.history = 1
        elif "gmail_quote" in classes or "yahoo_quoted" in classes or "moz-cite-prefix" in classes:
            floor = max(depth, floor) + 1
    elif tag == "p":
        # Outlook's paragraphs have no margin: each is one line, empty ones make the blank lines.
        if "MsoNormal" in (node.attributes.get("class") or ""):
            brk = _LINE_BREAK
    elif tag == "blockquote":
        depth += 1
    elif tag == "pre":
        pre = True
    elif tag == "ul" or tag == "ol":
        lists += 1
        if lists > 1:  # a nested list continues its item's list: no blank lines around it
            brk = _LINE_BREAK
    elif tag == "hr":
        writer.paragraph_break()
        return

    if brk == _PARAGRAPH_BREAK:
        writer.paragraph_break()
    else:
        writer.line_break()
    if tag == "li":
        writer.start_list_item("  " * max(lists - 1, 0) + "- ", max(depth, floor, writer.history))
        _walk(node, writer, depth, floor, pre, lists)
        writer.end_list_item()
        return
    _walk(node, writer, depth, floor, pre, lists)
    if brk == _PARAGRAPH_BREAK:
        writer.paragraph_break()
    else:
        writer.line_break()


def _fallback(html: str) -> str:
    try:
        text = LexborHTMLParser(html).text(separator="\n")
    except Exception:
        text = _TAG.sub(" ", html)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
