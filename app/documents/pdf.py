"""Lay out receipts and printable forms as A4 PDFs with fpdf2, in DejaVu Sans (it has every Latvian letter)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

if TYPE_CHECKING:
    from app.documents.printable_form import Blank, PrintableForm
    from app.documents.receipt import Receipt

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MARGIN = 20.0  # mm
BOX = 6.0  # mm: one character box of a box row
TICK = 3.8  # mm: a tick box
LINE_GAP = 8.5  # mm between writing lines: room for handwriting

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


class MissingFonts(RuntimeError):
    """The TrueType fonts are not where PDF_FONT_DIR says (Debian: the fonts-dejavu-core package)."""


def plain_text(markdown: str) -> str:
    """Return registry Markdown as plain text for print: emphasis dropped, links as "text (address)"."""
    text = _LINK.sub(r"\1 (\2)", markdown)
    return _EMPHASIS.sub(r"\2", text).strip()


class Writer(FPDF):
    """An A4 page writer with the layout helpers both documents use; it remembers every text it lays out."""

    def __init__(self, font_dir: str | Path, *, lang: str, title: str, author: str, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        fonts = {style: Path(font_dir) / name for style, name in FONT_FILES.items()}
        missing = [str(path) for path in fonts.values() if not path.is_file()]
        if missing:
            raise MissingFonts(f"PDF fonts not found (set PDF_FONT_DIR): {', '.join(missing)}")
        for style, path in fonts.items():
            self.add_font(FONT, style, path)
        self.set_margins(MARGIN, 18, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        # Metadata: screen readers and search read the language and title; the file name is not the title.
        self.set_lang(lang)
        self.set_title(title)
        self.set_author(author)
        self.set_creator(author)
        self.set_display_mode(zoom="fullwidth")
        self.footer_text = footer
        self.written: list[str] = []  # the texts laid out, in reading order (what tests read back)
        self.alias_nb_pages()
        self.add_page()

    def footer(self) -> None:
        """Print the document's reference and the page number at the foot of every page."""
        self.set_y(-13)
        self.set_font(FONT, "", 8)
        number = _("Page %(page)s of %(pages)s", page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 5, f"{self.footer_text} · {number}", align="C")

    def to_bytes(self) -> bytes:
        """Return the finished PDF."""
        return bytes(self.output())

    # --- text ------------------------------------------------------------------------------------------------

    def keep(self, height: float) -> None:
        """Start a new page unless `height` mm more fit on this one (keeps a label with its answer space)."""
        if self.will_page_break(height):
            self.add_page()

    def paragraph(
        self, text: str, *, size: float = 10, bold: bool = False, indent: float = 0, after: float = 1.5
    ) -> None:
        """Write a wrapped paragraph."""
        if not text:
            return
        self.written.append(text)
        self.set_font(FONT, "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(after)

    def heading(self, text: str, *, level: int = 1) -> None:
        """Write a heading, starting a page if it would be alone at the foot of this one."""
        size = {1: 16.0, 2: 13.0, 3: 11.0}[level]
        self.keep(size * 0.5 + 20)
        self.ln(2 if level > 1 else 0)
        self.paragraph(text, size=size, bold=True, after=2)

    def facts(self, rows: tuple[tuple[str, str], ...], *, label_width: float = 55) -> None:
        """Write label: value rows in two columns."""
        for label, value in rows:
            self.keep(12)
            self.written += [label, value]
            top = self.get_y()
            self.set_font(FONT, "B", 10)
            self.multi_cell(label_width - 3, 5, label, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            label_bottom = self.get_y()
            self.set_xy(self.l_margin + label_width, top)
            self.set_font(FONT, "", 10)
            self.multi_cell(self.epw - label_width, 5, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_y(max(label_bottom, self.get_y()) + 1.5)

    # --- space to write ---------------------------------------------------------------------------------------

    def letterhead(self, issuer: str, kicker: str, title: str, facts: tuple[tuple[str, str], ...]) -> None:
        """Start a document as receipts and decisions start: who issues it, what it is, about what, the facts."""
        self.paragraph(issuer, size=9, after=4)
        self.paragraph(kicker, size=11, bold=True, after=1)
        self.heading(title)
        self.facts(facts)

    def write_lines(self, count: int, *, indent: float = 0, width: float | None = None, suffix: str = "") -> None:
        """Draw `count` lines to write on."""
        left = self.l_margin + indent
        right = left + (width if width is not None else self.epw - indent)
        self.set_font(FONT, "", 10)
        for _line in range(count):
            self.keep(LINE_GAP + 2)
            y = self.get_y() + LINE_GAP
            self.line(left, y, right, y)
            if suffix:
                self.text(right + 1.5, y - 0.5, suffix)
            self.set_y(y + 1.5)
        self.ln(1)

    def box_row(self, pattern: tuple[int | str, ...], *, indent: float = 0) -> None:
        """Draw a row of character boxes: numbers are runs of boxes, strings are printed between them."""
        self.keep(BOX + 4)
        x = self.l_margin + indent
        y = self.get_y() + 1
        self.set_font(FONT, "", 10)
        for part in pattern:
            if isinstance(part, int):
                for _box in range(part):
                    self.rect(x, y, BOX, BOX)
                    x += BOX
            else:
                width = self.get_string_width(part) + 2
                self.set_xy(x, y)
                self.cell(width, BOX, part, align="C")
                x += width
        self.set_xy(self.l_margin, y + BOX + 2.5)

    def tick_boxes(self, choices: tuple[str, ...], *, indent: float = 0) -> None:
        """Draw a tick box before each choice."""
        self.set_font(FONT, "", 10)
        for choice in choices:
            self.keep(7)
            self.written.append(choice)
            top = self.get_y()
            self.rect(self.l_margin + indent, top + 0.7, TICK, TICK)
            self.set_xy(self.l_margin + indent + TICK + 2.5, top)
            width = self.epw - indent - TICK - 2.5
            self.multi_cell(width, 5, choice, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(1)
        self.ln(1)

    def signature_lines(self, labels: tuple[str, ...]) -> None:
        """Draw one line to sign or date on per label, the label under it."""
        self.keep(18 * len(labels))
        for label in labels:
            self.written.append(label)
            y = self.get_y() + 12
            self.line(self.l_margin, y, self.l_margin + 100, y)
            self.set_xy(self.l_margin, y + 0.5)
            self.set_font(FONT, "", 8.5)
            self.cell(100, 4, label)
            self.set_y(y + 6)


# --- the two documents -------------------------------------------------------------------------------------------


def receipt_writer(receipt: Receipt, font_dir: str | Path) -> Writer:
    """Lay out a receipt; the writer holds the pages (`to_bytes()`) and the texts laid out (`written`)."""
    pdf = Writer(
        font_dir,
        lang=receipt.lang,
        title=receipt.document_title,
        author=receipt.issuer,
        footer=receipt.reference,
    )
    pdf.letterhead(receipt.issuer, receipt.kicker, receipt.service_title, receipt.facts)
    if receipt.next_steps:
        pdf.heading(receipt.next_heading, level=2)
        for text in receipt.next_steps:
            pdf.paragraph(text)
    pdf.heading(receipt.answers_heading, level=2)
    for section in receipt.sections:
        pdf.heading(section.title, level=3)
        pdf.facts(tuple((label, "\n".join(lines)) for label, lines in section.rows), label_width=70)
    return pdf


def receipt_pdf(receipt: Receipt, font_dir: str | Path) -> bytes:
    """Return the receipt as a PDF."""
    return receipt_writer(receipt, font_dir).to_bytes()


def _blank(pdf: Writer, blank: Blank, *, indent: float = 0, bold: bool = True) -> None:
    """Lay out one question: its label, hint, condition and the space to answer it."""
    if blank.kind == "info":
        if blank.condition:
            pdf.paragraph(blank.condition, size=9, indent=indent, after=0.5)
        pdf.paragraph(plain_text(blank.text), size=9.5, indent=indent, after=3)
        return
    pdf.keep(24)
    label = f"{blank.label} {_('(optional)')}" if blank.optional else blank.label
    if blank.kind == "tick":
        pdf.tick_boxes((label,), indent=indent)
    else:
        pdf.paragraph(label, size=10, bold=bold, indent=indent, after=0.5)
    if blank.condition:
        pdf.paragraph(blank.condition, size=9, indent=indent, after=0.5)
    if blank.hint:
        pdf.paragraph(blank.hint, size=9, indent=indent, after=0.5)
    if blank.note:
        pdf.paragraph(blank.note, size=9, indent=indent, after=0.5)
    if blank.kind == "lines":
        pdf.write_lines(blank.lines, indent=indent, width=60 if blank.short else None, suffix=blank.suffix)
    elif blank.kind == "boxes":
        pdf.box_row(blank.boxes, indent=indent)
    elif blank.kind == "choices":
        pdf.tick_boxes(blank.choices, indent=indent)
    elif blank.kind == "parts":
        for part in blank.parts:
            _blank(pdf, part, indent=indent + 5, bold=False)
    elif blank.kind == "group":
        for title in blank.copies:
            pdf.keep(30)
            pdf.ln(1)
            pdf.line(pdf.l_margin + indent + 5, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
            pdf.ln(1.5)
            pdf.paragraph(title, size=10.5, bold=True, indent=indent + 5, after=1)
            for part in blank.parts:
                _blank(pdf, part, indent=indent + 5)
    pdf.ln(2.5)


def form_writer(form: PrintableForm, font_dir: str | Path) -> Writer:
    """Lay out a printable form; the writer holds the pages and the texts laid out."""
    pdf = Writer(
        font_dir,
        lang=form.lang,
        title=f"{form.title} – {form.service_title}",
        author=form.institution,
        footer=f"{form.title} ({form.version_label})",
    )
    pdf.paragraph(form.institution, size=10, bold=True, after=1)
    pdf.paragraph(form.service_title, size=9.5, after=4)
    pdf.heading(form.title)
    pdf.paragraph(form.instructions, size=9.5, after=1)
    for office in form.offices:
        pdf.paragraph(office, size=9.5, after=0.5)
    pdf.ln(3)
    for number, section in enumerate(form.sections, start=1):
        pdf.heading(f"{number}. {section.title}", level=2)
        if section.condition:
            pdf.paragraph(section.condition, size=9.5, after=2)
        for blank in section.blanks:
            _blank(pdf, blank)
    pdf.heading(form.declaration_heading, level=2)
    if form.declaration:
        pdf.tick_boxes((form.declaration,))
    pdf.signature_lines(form.signature_labels)
    return pdf


def form_pdf(form: PrintableForm, font_dir: str | Path) -> bytes:
    """Return the printable form as a PDF."""
    return form_writer(form, font_dir).to_bytes()
