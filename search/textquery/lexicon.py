"""The words designers use for materials, colours, finishes and patterns, each mapped to the
description's vocabulary (`analysis.description`). Keys are lemmas (singular, lower case);
`search.textquery.parser` brings a query's words to their lemmas before it looks them up.

A phrase may name several fields ("terracotta": a tile, and its colour). `GENERIC_TYPES` name a
family rather than a material: a more specific word of the same query wins over them ("veined
stone" is marble, "granite paving" granite).
"""

from __future__ import annotations

from analysis.colors import NAMED_COLORS
from analysis.description import FINISHES, PATTERNS, SYNONYMS

TYPE = "material_type"
COLOR = "colors"
FINISH = "finish"
PATTERN = "pattern"

_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "wood": (
        "wood", "wooden", "woody", "timber", "hardwood", "softwood", "plank", "board", "floorboard",
        "parquet", "parquetry", "oak", "walnut", "pine", "beech", "maple", "cherry wood",
        "teak", "mahogany", "cedar", "spruce", "larch", "ash wood", "elm", "acacia", "bamboo",
        "plywood", "veneer", "decking", "lumber", "driftwood", "batten", "cladding board",
        "wood grain", "woodgrain", "chipboard", "mdf", "osb", "birch wood", "birch plywood",
    ),
    "bark": (
        "bark", "tree bark", "tree skin", "tree trunk", "trunk", "mulch", "bark chip",
        "bark mulch", "birch bark", "pine bark", "cork bark",
    ),
    "stone": (
        "stone", "rock", "slate", "limestone", "sandstone", "travertine", "quartzite",
        "basalt", "cobblestone", "cobble", "pebble", "gravel", "sett", "flagstone",
        "fieldstone", "rubble", "boulder", "shingle", "bluestone", "paving stone", "stonework",
        "dry stone", "shale", "flint", "scree", "crazy paving", "stony", "rocky",
    ),
    "granite": ("granite",),
    "marble": (
        "marble", "marbled", "calacatta", "carrara", "statuario", "onyx", "veined",
        "veining", "vein",
    ),
    "terrazzo": ("terrazzo",),
    "concrete": (
        "concrete", "cement", "screed", "render", "rendered", "plaster", "stucco",
        "microcement", "micro cement", "polished concrete", "board formed concrete",
        "precast", "grout", "mortar", "tadelakt", "beton", "béton", "cast in place",
        "exposed aggregate",
    ),
    "brick": (
        "brick", "brickwork", "bricks", "brick wall", "masonry", "brick bond", "london stock",
        "stock brick", "clinker", "flemish bond", "stretcher bond", "brick slip",
    ),
    "tile": (
        "tile", "tiled", "tiling", "ceramic", "ceramic tile", "porcelain", "porcelain tile",
        "terracotta", "mosaic", "encaustic", "zellige", "subway tile", "metro tile",
        "quarry tile", "faience", "majolica", "azulejo", "glazed tile", "cement tile",
        "stoneware", "earthenware", "hexagonal tile", "hex tile",
    ),
    "metal": (
        "metal", "metallic", "steel", "stainless", "stainless steel", "iron", "cast iron",
        "wrought iron", "aluminium", "aluminum", "copper", "brass", "bronze", "zinc", "tin",
        "chrome", "chromed", "galvanised", "galvanized", "corrugated sheet", "sheet metal",
        "corten", "cor ten", "weathering steel", "perforated metal", "mesh", "diamond plate",
        "checker plate", "tread plate", "patina", "patinated", "rusted", "rusty",
    ),
    "glass": ("glass", "glazing", "frosted glass", "mirror"),
    "fabric": (
        "fabric", "textile", "cloth", "upholstery", "linen", "cotton", "wool", "woollen",
        "velvet", "tweed", "denim", "jute", "burlap", "hessian", "canvas", "silk", "felt",
        "boucle", "bouclé", "chenille", "corduroy", "suede cloth", "twill", "weave",
        "woven", "knit", "knitted", "sacking", "sackcloth", "muslin", "chintz", "damask",
        "jacquard", "tartan", "gingham", "fleece", "drapery", "curtain",
    ),
    "carpet": (
        "carpet", "carpeting", "rug", "runner", "broadloom", "berber", "shag", "shaggy",
        "pile", "loop pile", "cut pile", "carpet tile", "kilim", "dhurrie", "sisal", "seagrass",
        "oriental rug", "persian rug", "wall to wall", "moquette",
    ),
    "leather": ("leather", "hide", "suede", "nubuck", "faux leather", "pleather"),
    "laminate": ("laminate", "laminated", "hpl", "formica"),
    "plastic": ("plastic", "vinyl", "pvc", "acrylic", "resin", "linoleum", "lino", "rubber"),
    "cork": ("cork", "cork board"),
    "grass": (
        "grass", "grassy", "lawn", "turf", "sward", "meadow", "sod", "grassland", "moss",
        "mossy", "green roof",
        "artificial grass", "astroturf",
    ),
    "paper": ("paper", "wallpaper", "cardboard", "papier"),
}  # fmt: skip

GENERIC_TYPES = frozenset({"stone"})

_COLOR_WORDS: dict[str, str] = {
    "gray": "grey", "light gray": "light grey", "dark gray": "dark grey", "pale grey":
    "light grey", "pale gray": "light grey", "anthracite": "charcoal", "graphite": "charcoal",
    "slate grey": "dark grey", "greige": "beige", "ecru": "cream", "off white": "ivory",
    "off-white": "ivory", "bone": "ivory", "snow": "white", "chalk": "white", "ebony": "black",
    "jet": "black", "golden": "gold", "amber": "honey", "mustard": "yellow", "ochre": "honey",
    "ocher": "honey", "caramel": "tan", "camel": "tan", "taupe": "beige", "mocha":
    "chocolate", "espresso": "dark brown", "coffee": "brown", "walnut brown": "dark brown",
    "reddish": "red", "crimson": "red", "scarlet": "red", "oxblood": "burgundy", "wine":
    "burgundy", "maroon": "burgundy", "blush": "pink", "rose": "pink", "coral": "orange",
    "peach": "orange", "brick red": "terracotta", "russet": "rust", "khaki": "olive",
    "mint": "sage", "emerald": "green", "forest green": "dark green", "bottle green":
    "dark green", "turquoise": "teal", "petrol": "teal", "cobalt": "blue", "indigo": "navy",
    "sky blue": "light blue", "powder blue": "light blue", "lilac": "purple", "violet":
    "purple", "plum": "purple", "greenish": "green", "bluish": "blue", "yellowish": "yellow",
    "brownish": "brown", "greyish": "grey", "whitish": "white", "blackish": "black",
}  # fmt: skip

_FINISH_WORDS: dict[str, str] = {
    "polish": "polished", "high gloss": "glossy", "lacquer": "glossy", "varnished": "glossy",
    "glazed": "glossy", "brushed": "brushed", "satin": "satin", "silk finish": "satin",
    "honed": "honed", "flamed": "textured", "bush hammered": "textured", "tumbled":
    "textured", "riven": "textured", "textured": "textured", "rough": "textured", "rugged":
    "textured", "coarse": "textured", "embossed": "textured", "unfinished": "natural",
    "untreated": "natural", "raw": "natural", "natural": "natural", "oiled": "natural",
    "waxed": "natural", "matte": "matte", "matt": "matte", "mat": "matte",
}  # fmt: skip

_PATTERN_WORDS: dict[str, str] = {
    "herringbone": "geometric", "chevron": "geometric", "hexagonal": "geometric", "hexagon":
    "geometric", "hex": "geometric", "geometric": "geometric", "basketweave": "geometric",
    "fishscale": "geometric", "fish scale": "geometric", "brick bond": "geometric",
    "checkered": "checked", "chequered": "checked", "checkerboard": "checked",
    "checker": "checked", "chessboard": "checked", "gingham": "checked", "tartan": "checked",
    "plaid": "checked", "striped": "striped", "stripe": "striped", "pinstripe": "striped",
    "streak": "veined", "streaked": "veined", "veined": "veined", "veining": "veined",
    "vein": "veined", "marbled": "veined", "speckled": "speckled", "speckle": "speckled",
    "fleck": "speckled", "flecked": "speckled", "spotted": "speckled", "dotted": "speckled",
    "terrazzo": "speckled", "woven": "woven", "weave": "woven", "knit": "woven", "knitted":
    "woven", "looped": "woven", "loop": "woven", "twill": "woven", "grain": "grain",
    "grained": "grain", "wood grain": "grain", "mottled": "mottled", "cloudy": "mottled",
    "clouded": "mottled", "patchy": "mottled", "blotchy": "mottled", "floral": "floral",
    "flower": "floral", "ornament": "floral", "ornamental": "floral", "damask": "floral",
    "paisley": "floral", "plain": "solid", "uniform": "solid", "solid colour": "solid",
    "solid color": "solid", "irregular": "irregular", "random": "irregular",
}  # fmt: skip


def _entries() -> dict[str, set[tuple[str, str]]]:
    table: dict[str, set[tuple[str, str]]] = {}

    def add(phrase: str, field: str, value: str) -> None:
        table.setdefault(phrase.lower(), set()).add((field, value))

    for value, words in _TYPE_WORDS.items():
        for word in words:
            add(word, TYPE, value)
    for word, value in SYNONYMS["material_type"].items():
        add(word, TYPE, {"ceramic": "tile", "porcelain": "tile"}.get(value, value))
    for name in NAMED_COLORS:
        add(name, COLOR, name)
    for word, name in _COLOR_WORDS.items():
        add(word, COLOR, name)
    for value in FINISHES:
        if value != "unknown":
            add(value, FINISH, value)
    for table_name, field, values in (("finish", FINISH, FINISHES), ("pattern", PATTERN, PATTERNS)):
        for word, value in SYNONYMS[table_name].items():
            if value in values and word not in {"none", "rough", "random"}:
                add(word, field, value)
    for word, value in _FINISH_WORDS.items():
        add(word, FINISH, value)
    for value in PATTERNS:
        if value != "unknown":
            add(value, PATTERN, value)
    for word, value in _PATTERN_WORDS.items():
        add(word, PATTERN, value)
    return table


LEXICON: dict[str, frozenset[tuple[str, str]]] = {
    phrase: frozenset(meanings) for phrase, meanings in _entries().items()
}
# The longest phrase, in words: how far the parser looks ahead.
LONGEST_PHRASE = max(len(phrase.split()) for phrase in LEXICON)
