"""Builds glyphless.ttf, the font of docvl's invisible text layers (run once; the font is committed).

Two glyphs, both without outlines: .notdef and one blank glyph that every character of a text layer is
drawn with (the PDF maps each character's CID to it and gives it its width). Ascent 800 and descent
-200 of 1000 units, so a line drawn at a font size equal to its box's height fills exactly that box.
Needs fontTools: python docvl/fonts/make_glyphless.py
"""

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen


def build(path: Path) -> None:
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "blank"])
    fb.setupCharacterMap({0x20: "blank"})
    empty = TTGlyphPen(None).glyph()
    fb.setupGlyf({".notdef": empty, "blank": empty})
    fb.setupHorizontalMetrics({".notdef": (500, 0), "blank": (500, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "DocvlGlyphless", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, sTypoLineGap=0, usWinAscent=800, usWinDescent=200,
                fsType=0)
    fb.setupPost()
    fb.font["head"].yMin, fb.font["head"].yMax = -200, 800
    fb.save(str(path))


if __name__ == "__main__":
    build(Path(__file__).with_name("glyphless.ttf"))
