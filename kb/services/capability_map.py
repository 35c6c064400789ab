"""The capability map: a picture of the unit drawn as SVG on the server, every box a link.

The unit sits at the top; each area is a panel holding its capabilities; an area whose capability has
sub-teams (the Economic Crime Unit and its teams) is drawn as a full-width band, the parent above a grid of
its teams. Nothing runs in the browser: it is plain SVG in the page, readable with JavaScript off, and its
links are ordinary links, reachable by keyboard and named by their visible text.

Text cannot reflow inside SVG, so the map is laid out twice, for narrow and for wide screens, and the
stylesheet shows the one that fits. The directory on the same page is its text alternative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from kb.models import Area, Article


@dataclass(frozen=True)
class Layout:
    """The geometry of one variant of the map, in SVG user units."""

    name: str
    width: int
    columns: int
    font_size: int
    pad: int = 12
    gap: int = 12
    inset: int = 8  # between a panel's edge and the boxes inside it
    box_pad_x: int = 10
    box_pad_y: int = 9
    # Average glyph width as a share of the font size, on the wide side for the system fonts, so a
    # line rarely overflows its box.
    glyph_width: float = 0.6

    @property
    def line_height(self) -> float:
        return round(self.font_size * 1.3, 1)

    def chars_per_line(self, box_width: float) -> int:
        return max(8, int((box_width - 2 * self.box_pad_x) / (self.font_size * self.glyph_width)))


# The stylesheet sets the same colours (and the hover and focus states); these attributes keep the map
# legible where no stylesheet applies, such as a saved copy of the page.
COLOURS = {  # kind: (box fill, box stroke, text fill, font weight)
    "unit": ("#0b2545", "#0b2545", "#ffffff", "700"),
    "area": ("#0b2545", "#0b2545", "#ffffff", "700"),
    "capability": ("#ffffff", "#1a4f8b", "#1a4f8b", "400"),
    "team": ("#ffffff", "#2e6cb5", "#1a4f8b", "400"),
}

NARROW = Layout(name="narrow", width=360, columns=2, font_size=14)
WIDE = Layout(name="wide", width=1000, columns=4, font_size=16)
LAYOUTS = (WIDE, NARROW)


@dataclass
class _Canvas:
    layout: Layout
    parts: list[str] = field(default_factory=list)
    link_count: int = 0

    def box(self, x: float, y: float, width: float, url: str, label: str, kind: str) -> float:
        """Draw one linked box with its label wrapped to fit; return its height."""
        layout = self.layout
        lines = wrap(label, layout.chars_per_line(width))
        height = round(len(lines) * layout.line_height + 2 * layout.box_pad_y, 1)
        baseline = y + layout.box_pad_y + layout.font_size * 0.95
        # A trailing space on every line but the last keeps words apart in the link's accessible name.
        spans = "".join(
            f'<tspan x="{x + layout.box_pad_x:g}" y="{baseline + i * layout.line_height:g}">'
            f"{escape(line)}{' ' if i < len(lines) - 1 else ''}</tspan>"
            for i, line in enumerate(lines)
        )
        box_fill, box_stroke, text_fill, weight = COLOURS.get(kind, COLOURS["capability"])
        self.parts.append(
            f'<a href="{escape(url)}" class="map-link map-link--{kind}">'
            f'<rect class="map-box" x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="4"'
            f' fill="{box_fill}" stroke="{box_stroke}" stroke-width="1.5"/>'
            f'<text class="map-label" fill="{text_fill}" font-weight="{weight}">{spans}</text></a>'
        )
        self.link_count += 1
        return height

    def panel(self, x: float, y: float, width: float, height: float) -> None:
        self.parts.append(
            f'<rect class="map-panel" x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="6"'
            ' fill="#f3f5f8" stroke="#b1b4b6"/>'
        )

    def line(self, points: Sequence[tuple[float, float]]) -> None:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:g} {y:g}" for i, (x, y) in enumerate(points))
        self.parts.append(f'<path class="map-connector" d="{path}" fill="none" stroke="#505a5f"/>')


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` characters, breaking between words."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]


def label_for(article: Article) -> str:
    return article.title


def render_map(
    directory: Sequence[tuple[Area, Sequence[Article]]],
    layout: Layout,
    unit_url: str,
    article_url: Callable[[Article], str],
    area_url: Callable[[Area], str],
) -> Markup:
    """Draw the map of ``directory`` (areas with their readable capabilities) in one layout."""
    canvas = _Canvas(layout)
    inner_width = layout.width - 2 * layout.pad
    y = float(layout.pad)
    y += canvas.box(
        layout.pad, y, inner_width, unit_url, "SEROCU: South East Regional Organised Crime Unit", "unit"
    )
    y += layout.gap

    regular, banded = [], []
    for area, items in directory:
        if not items:
            continue
        ids = {item.id for item in items}
        has_teams = any(item.parent_id in ids for item in items)
        (banded if has_teams else regular).append((area, items))

    column_width = (inner_width - (layout.columns - 1) * layout.gap) / layout.columns
    for row_start in range(0, len(regular), layout.columns):
        row = regular[row_start : row_start + layout.columns]
        drawn: list[tuple[float, float]] = []  # (x, panel height) per column, panels drawn after sizing
        boxes_start = len(canvas.parts)
        for index, (area, items) in enumerate(row):
            x = layout.pad + index * (column_width + layout.gap)
            drawn.append((x, _area_column(canvas, x, y, column_width, area, items, article_url, area_url)))
        row_height = max(height for _, height in drawn)
        # Panels go underneath the boxes: insert them before this row's boxes, all the row's height.
        panels = _Canvas(layout)
        for x, _ in drawn:
            panels.panel(x, y, column_width, row_height)
        canvas.parts[boxes_start:boxes_start] = panels.parts
        y += row_height + layout.gap

    for area, items in banded:
        y += _area_band(canvas, layout.pad, y, inner_width, area, items, article_url, area_url) + layout.gap

    height = y - layout.gap + layout.pad
    title_id = f"capability-map-{layout.name}-title"
    title = (
        "Map of the unit: each area with its capabilities"
        + (", and the teams within " + ", ".join(area.name for area, _ in banded) if banded else "")
        + ". Every box is a link."
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"'
        f' class="capability-map__svg capability-map__svg--{layout.name}"'
        f' viewBox="0 0 {layout.width} {height:g}" width="{layout.width}" height="{height:g}"'
        f' font-size="{layout.font_size}"'
        f' aria-labelledby="{title_id}">'
        f'<title id="{title_id}">{escape(title)}</title>' + "".join(canvas.parts) + "</svg>"
    )
    return Markup(svg)  # noqa: S704 (every text and URL above is escaped)


def _area_column(canvas, x, y, width, area, items, article_url, area_url) -> float:
    """Draw an area's heading and its capabilities stacked in one column; return the height used."""
    layout = canvas.layout
    inset = layout.inset
    top = y + inset
    top += canvas.box(x + inset, top, width - 2 * inset, area_url(area), area.name, "area") + inset
    for item in items:
        top += canvas.box(x + inset, top, width - 2 * inset, article_url(item), label_for(item), "capability")
        top += inset
    return top - y


def _area_band(canvas, x, y, width, area, items, article_url, area_url) -> float:
    """Draw an area across the full width: each parent capability over a grid of its teams."""
    layout = canvas.layout
    inset = layout.inset
    boxes_start = len(canvas.parts)
    top = y + inset
    top += canvas.box(x + inset, top, width - 2 * inset, area_url(area), area.name, "area") + inset
    ids = {item.id for item in items}
    inner = width - 2 * inset
    column_width = (inner - (layout.columns - 1) * layout.gap) / layout.columns
    for parent in [item for item in items if item.parent_id not in ids]:
        parent_bottom = top + canvas.box(
            x + inset, top, inner, article_url(parent), label_for(parent), "capability"
        )
        top = parent_bottom + inset
        teams = [item for item in items if item.parent_id == parent.id]
        if not teams:
            continue
        top += inset  # room for the connectors
        for row_start in range(0, len(teams), layout.columns):
            row = teams[row_start : row_start + layout.columns]
            heights = []
            for index, team in enumerate(row):
                team_x = x + inset + index * (column_width + layout.gap)
                if row_start == 0:  # the first row hangs from the line below the parent
                    canvas.line([(team_x + column_width / 2, top - inset), (team_x + column_width / 2, top)])
                heights.append(canvas.box(team_x, top, column_width, article_url(team), team.title, "team"))
            top += max(heights) + inset + inset
        first_centre = x + inset + column_width / 2
        last_index = min(len(teams), layout.columns) - 1
        last_centre = x + inset + last_index * (column_width + layout.gap) + column_width / 2
        bus_y = parent_bottom + inset
        canvas.line([(x + width / 2, parent_bottom), (x + width / 2, bus_y)])
        canvas.line([(first_centre, bus_y), (last_centre, bus_y)])
    height = top - y
    panel = _Canvas(layout)
    panel.panel(x, y, width, height)
    canvas.parts[boxes_start:boxes_start] = panel.parts
    return height


def capability_maps(
    directory: Sequence[tuple[Area, Sequence[Article]]],
    unit_url: str,
    article_url: Callable[[Article], str],
    area_url: Callable[[Area], str],
) -> list[Markup]:
    """The map in each layout, wide first; the stylesheet shows one at a time."""
    return [render_map(directory, layout, unit_url, article_url, area_url) for layout in LAYOUTS]
