"""Character sprites and portraits, drawn by code from a persona's name.

``sprite_sheet_png(name)`` is a 96 x 128 PNG of 32 x 32 frames: 3 columns (walking
frames: left foot forward, standing, right foot forward) by 4 rows, facing down, left,
right and up (:data:`DIRECTIONS`), on a transparent background. ``portrait_png(name)`` is
a 96 x 96 head-and-shoulders picture, also transparent around the figure.

The look (skin tone, hair style and colour, eye colour, clothes, glasses, hat, beard)
comes from a SHA-256 of the name, never from Python's ``hash()`` (salted per process), so
a name always gives the same picture, byte for byte, on every machine and every run.
Any string works, including the empty one; the name is only hashed, never drawn or used
as a path. A sheet takes about a millisecond; results are cached.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .tileset import mix, png_bytes, shade

__all__ = [
    "DIRECTIONS",
    "FRAMES",
    "FRAME_H",
    "FRAME_W",
    "PORTRAIT_SIZE",
    "SHEET_H",
    "SHEET_W",
    "Look",
    "look_for",
    "portrait_image",
    "portrait_png",
    "sprite_sheet_image",
    "sprite_sheet_png",
]

RGB = tuple[int, int, int]

FRAME_W = 32
FRAME_H = 32
FRAMES = 3  # columns: left foot forward, standing, right foot forward
DIRECTIONS: tuple[str, ...] = ("down", "left", "right", "up")  # rows, top to bottom
SHEET_W = FRAME_W * FRAMES
SHEET_H = FRAME_H * len(DIRECTIONS)
PORTRAIT_SIZE = 96
_STEPS = (-1, 0, 1)

_OUTLINE = (38, 30, 38, 255)
_SHADOW = (0, 0, 0, 56)

SKINS: tuple[RGB, ...] = (
    (255, 226, 200),
    (244, 200, 166),
    (232, 184, 142),
    (214, 160, 116),
    (190, 134, 94),
    (160, 106, 72),
    (124, 80, 54),
    (94, 60, 42),
)
# natural colours listed more than once so they come up more often than dyed ones
HAIRS: tuple[RGB, ...] = (
    (30, 26, 30),
    (30, 26, 30),
    (66, 42, 30),
    (66, 42, 30),
    (108, 70, 42),
    (108, 70, 42),
    (146, 64, 38),
    (200, 110, 50),
    (228, 192, 112),
    (228, 192, 112),
    (238, 226, 194),
    (158, 158, 162),
    (226, 226, 226),
    (70, 90, 170),
    (214, 110, 160),
    (44, 38, 52),
)
HAIR_STYLES: tuple[str, ...] = ("short", "long", "bun", "ponytail", "spiky", "buzz", "curly", "bob")
SHIRTS: tuple[RGB, ...] = (
    (204, 66, 62),
    (228, 130, 54),
    (232, 196, 74),
    (122, 172, 72),
    (48, 132, 98),
    (60, 152, 172),
    (68, 112, 192),
    (46, 64, 122),
    (122, 86, 172),
    (198, 94, 152),
    (238, 238, 232),
    (62, 62, 68),
    (152, 112, 82),
    (172, 192, 212),
    (212, 172, 142),
    (142, 32, 52),
)
TROUSERS: tuple[RGB, ...] = (
    (46, 58, 94),
    (72, 98, 152),
    (42, 42, 46),
    (152, 132, 98),
    (102, 102, 110),
    (102, 72, 52),
    (62, 82, 58),
    (112, 42, 52),
)
SHOES: tuple[RGB, ...] = ((36, 32, 34), (96, 62, 40), (232, 232, 228), (176, 50, 46))
EYES: tuple[RGB, ...] = ((48, 32, 26), (48, 32, 26), (86, 56, 34), (60, 100, 160), (70, 120, 80), (96, 100, 108))
HATS: tuple[RGB, ...] = ((200, 60, 56), (50, 80, 150), (60, 120, 70), (232, 196, 74), (40, 40, 44), (150, 90, 160))


@dataclass(frozen=True)
class Look:
    """Everything that makes one character look like themselves."""

    skin: RGB
    hair: RGB
    hair_style: str
    eyes: RGB
    shirt: RGB
    trousers: RGB
    bottom: str  # "trousers", "shorts" or "skirt"
    shoes: RGB
    glasses: bool
    hat: str  # "", "cap" or "beanie"
    hat_color: RGB
    beard: bool


def _digest(name: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"a sprite is drawn from a name (str), got {type(name).__name__}")
    # NFC so a name typed with combining accents looks like the precomposed one;
    # surrogatepass so even a lone surrogate from a broken decoder hashes instead of failing
    text = unicodedata.normalize("NFC", name)
    return hashlib.sha256(b"reverie-sprite-1\0" + text.encode("utf-8", "surrogatepass")).digest()


def look_for(name: str) -> Look:
    """The look of the character called ``name`` (deterministic, see the module docstring)."""
    d = _digest(name)
    style = HAIR_STYLES[d[2] % len(HAIR_STYLES)]
    hat = "cap" if d[9] < 18 else "beanie" if d[9] < 32 else ""
    if hat and style in ("spiky", "bun"):
        style = "short"  # a hat squashes spikes and buns; they would poke through it
    bottom = "skirt" if d[6] < 56 else "shorts" if d[6] < 90 else "trousers"
    return Look(
        skin=SKINS[d[0] % len(SKINS)],
        hair=HAIRS[d[1] % len(HAIRS)],
        hair_style=style,
        eyes=EYES[d[12] % len(EYES)],
        shirt=SHIRTS[d[3] % len(SHIRTS)],
        trousers=TROUSERS[d[5] % len(TROUSERS)],
        bottom=bottom,
        shoes=SHOES[d[7] % len(SHOES)],
        glasses=d[8] < 64,
        hat=hat,
        hat_color=HATS[d[10] % len(HATS)],
        beard=d[11] < 36 and style not in ("long", "bun", "bob"),
    )


# --- drawing helpers -----------------------------------------------------------------


class _Pen:
    def __init__(self, size: int) -> None:
        self.img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.img)
        self.size = size

    def r(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        """A filled rectangle, corners inclusive (nothing if empty)."""
        if x1 >= x0 and y1 >= y0:
            self.draw.rectangle((x0, y0, x1, y1), fill=color)

    def p(self, x: int, y: int, color: RGB) -> None:
        if 0 <= x < self.size and 0 <= y < self.size:
            self.draw.point((x, y), fill=color)

    def clear(self, x: int, y: int) -> None:
        if 0 <= x < self.size and 0 <= y < self.size:
            self.draw.point((x, y), fill=(0, 0, 0, 0))

    def ellipse(self, box: tuple[int, int, int, int], color: RGB) -> None:
        self.draw.ellipse(box, fill=color)


def _outlined(img: Image.Image) -> Image.Image:
    """Add a one-pixel dark outline around everything drawn (the classic sprite look)."""
    a = np.asarray(img).copy()
    solid = a[..., 3] > 0
    grown = solid.copy()
    grown[1:] |= solid[:-1]
    grown[:-1] |= solid[1:]
    grown[:, 1:] |= solid[:, :-1]
    grown[:, :-1] |= solid[:, 1:]
    a[grown & ~solid] = _OUTLINE
    return Image.fromarray(a, "RGBA")


# --- the walking figure (32 x 32) ----------------------------------------------------


def _legs(pen: _Pen, look: Look, direction: str, step: int) -> None:
    trousers, skin, shoes = look.trousers, look.skin, look.shoes
    if direction in ("down", "up"):
        sign = 1 if direction == "down" else -1  # the leg in front is lower when facing us
        for x0, x1, phase in ((11, 15, -1), (16, 20, 1)):
            bottom = 27 + sign * (1 if step == phase else -1 if step == -phase else 0)
            _leg(pen, look, x0, x1, 23, bottom, trousers, skin, shoes)
    else:
        spread = 2 * step
        back = (15 - spread, 17 - spread)
        front = (12 + spread, 14 + spread)
        _leg(pen, look, *back, 23, 27, shade(trousers, 0.82), shade(skin, 0.9), shade(shoes, 0.85))
        _leg(pen, look, *front, 23, 27, trousers, skin, shoes, toe=-1)
    if look.bottom == "skirt":
        if direction in ("down", "up"):
            pen.draw.polygon(((11, 21), (20, 21), (22, 25), (9, 25)), fill=trousers)
        else:
            pen.draw.polygon(((12, 21), (19, 21), (20, 25), (10, 25)), fill=trousers)
        pen.r(10, 25, 21 if direction in ("down", "up") else 20, 25, shade(trousers, 0.8))


def _leg(
    pen: _Pen, look: Look, x0: int, x1: int, top: int, bottom: int, cloth: RGB, skin: RGB, shoe: RGB, toe: int = 0
) -> None:
    knee = {"trousers": bottom - 2, "shorts": top + 1, "skirt": top + 1}[look.bottom]
    pen.r(x0, top, x1, knee, cloth)
    pen.r(x0, knee + 1, x1, bottom - 2, skin)
    pen.r(min(x0, x0 + toe), bottom - 1, max(x1, x1 + toe), bottom, shoe)


def _torso(pen: _Pen, look: Look, direction: str, step: int) -> None:
    shirt = look.shirt
    if direction in ("down", "up"):
        pen.r(10, 16, 21, 23, shirt)
        pen.clear(10, 16)
        pen.clear(21, 16)
        pen.r(10, 23, 21, 23, shade(look.trousers, 0.9) if look.bottom != "skirt" else look.trousers)
        sign = 1 if direction == "down" else -1
        for x0, swing in ((8, step), (22, -step)):
            dy = sign * swing
            pen.r(x0, 17 + dy, x0 + 1, 20 + dy, shade(shirt, 0.86))
            pen.r(x0, 21 + dy, x0 + 1, 22 + dy, look.skin)
        if direction == "down" and look.shirt != (238, 238, 232):
            pen.r(14, 16, 17, 16, look.skin)  # the neckline
    else:
        pen.r(12, 16, 19, 23, shirt)
        pen.clear(12, 16)
        pen.clear(19, 16)
        pen.r(12, 23, 19, 23, shade(look.trousers, 0.9) if look.bottom != "skirt" else look.trousers)
        dx = -2 * step
        pen.r(15 + dx, 17, 16 + dx, 20, shade(shirt, 0.86))
        pen.r(15 + dx, 21, 16 + dx, 22, look.skin)


def _head(pen: _Pen, look: Look, direction: str) -> None:
    skin = look.skin
    if direction in ("down", "up"):
        pen.draw.rounded_rectangle((9, 3, 22, 16), 4, fill=skin)
        if direction == "down":
            pen.p(8, 10, shade(skin, 0.92))
            pen.p(23, 10, shade(skin, 0.92))
            for x in (12, 19):
                pen.r(x, 10, x, 11, look.eyes)
            pen.r(15, 14, 16, 14, shade(skin, 0.72))
            blush = mix(skin, (230, 110, 110), 0.3)
            pen.p(11, 13, blush)
            pen.p(20, 13, blush)
            if look.beard:
                pen.r(10, 13, 10, 14, look.hair)
                pen.r(21, 13, 21, 14, look.hair)
                pen.r(11, 15, 20, 16, look.hair)
                pen.r(15, 14, 16, 14, shade(look.hair, 0.7))
            if look.glasses:
                frame = (40, 40, 46)
                for x0 in (11, 17):
                    pen.draw.rectangle((x0, 9, x0 + 3, 12), outline=frame)
                pen.r(15, 10, 16, 10, frame)
    else:
        pen.draw.rounded_rectangle((10, 3, 21, 16), 4, fill=skin)
        pen.p(9, 12, skin)  # the nose
        pen.r(12, 10, 12, 11, look.eyes)
        pen.r(11, 14, 12, 14, shade(skin, 0.72))
        pen.r(17, 9, 18, 11, shade(skin, 0.88))  # the ear
        if look.beard:
            pen.r(11, 15, 16, 16, look.hair)
            pen.r(16, 12, 17, 14, look.hair)
        if look.glasses:
            frame = (40, 40, 46)
            pen.draw.rectangle((10, 9, 13, 12), outline=frame)
            pen.r(14, 10, 17, 10, frame)


def _hair_back(pen: _Pen, look: Look, direction: str) -> None:
    """Hair that hangs behind the body (drawn before it)."""
    hair, style = look.hair, look.hair_style
    if direction == "down":
        if style == "long":
            pen.r(7, 5, 24, 21, shade(hair, 0.85))
        elif style in ("bob", "curly"):
            pen.r(7, 5, 24, 15, shade(hair, 0.85))
    elif direction in ("left", "right"):
        if style == "long":
            pen.r(15, 4, 23, 21, shade(hair, 0.85))
        elif style == "ponytail":
            pen.r(21, 7, 24, 15, shade(hair, 0.9))
        elif style == "bun":
            pen.ellipse((18, 0, 23, 5), shade(hair, 0.9))


def _hair_front(pen: _Pen, look: Look, direction: str) -> None:
    hair, style = look.hair, look.hair_style
    light = shade(hair, 1.25) if sum(hair) < 300 else shade(hair, 1.08)
    if style == "buzz":
        fuzz = mix(hair, look.skin, 0.35)
        if direction == "up":
            pen.draw.rounded_rectangle((9, 3, 22, 13), 4, fill=fuzz)
        else:
            pen.r(10 if direction == "down" else 11, 3, 21, 5, fuzz)
        return
    if direction == "down":
        if style == "curly":
            pen.ellipse((7, 0, 24, 10), hair)
            for x in range(8, 24, 3):
                pen.p(x, 8, light)
            pen.r(7, 5, 9, 12, hair)
            pen.r(22, 5, 24, 12, hair)
        else:
            pen.draw.rounded_rectangle((9, 2, 22, 7), 3, fill=hair)
            fringe = {"bob": (9, 22), "long": (9, 13), "spiky": (9, 22)}.get(style, (9, 12))
            pen.r(fringe[0], 7, fringe[1], 7, hair)
            pen.r(17, 7, 22, 7, hair)
            side = {"long": 13, "bob": 14}.get(style, 10)
            pen.r(8, 5, 10, side, hair)
            pen.r(21, 5, 23, side, hair)
            pen.r(12, 3, 15, 3, light)
        if style == "spiky":
            for x in (9, 13, 17, 21):
                pen.draw.polygon(((x - 1, 4), (x + 1, 0), (x + 3, 4)), fill=hair)
        elif style == "bun":
            pen.ellipse((13, -1, 18, 3), hair)
    elif direction in ("left", "right"):
        if style == "curly":
            pen.ellipse((8, 0, 23, 11), hair)
            pen.r(15, 6, 23, 13, hair)
            for x in range(9, 22, 3):
                pen.p(x, 3, light)
        else:
            pen.draw.rounded_rectangle((10, 2, 21, 7), 3, fill=hair)
            back = {"long": 14, "bob": 14}.get(style, 12)
            pen.r(16, 5, 21, back, hair)
            pen.r(10, 7, 12, 7, hair)
            pen.r(12, 3, 15, 3, light)
        if style == "spiky":
            for x in (11, 15, 19):
                pen.draw.polygon(((x - 1, 4), (x + 2, 0), (x + 3, 4)), fill=hair)
    else:  # up: the back of the head
        if style == "curly":
            pen.ellipse((7, 0, 24, 15), hair)
        else:
            bottom = {"long": 16, "bob": 15}.get(style, 13)
            pen.draw.rounded_rectangle((9, 2, 22, bottom), 4, fill=hair)
            pen.r(12, 3, 15, 3, light)
        if style == "spiky":
            for x in (9, 13, 17, 21):
                pen.draw.polygon(((x - 1, 4), (x + 1, 0), (x + 3, 4)), fill=hair)
        elif style == "bun":
            pen.ellipse((13, -1, 18, 4), shade(hair, 0.9))
        elif style == "ponytail":
            pen.r(14, 12, 17, 19, shade(hair, 0.9))
        elif style == "long":
            pen.r(9, 14, 22, 21, shade(hair, 0.92))


def _hat(pen: _Pen, look: Look, direction: str) -> None:
    if not look.hat:
        return
    color = look.hat_color
    x0, x1 = (9, 22) if direction in ("down", "up") else (10, 21)
    if look.hat == "cap":
        pen.draw.rounded_rectangle((x0, 1, x1, 6), 3, fill=color)
        pen.r(x0 + 3, 2, x0 + 5, 2, shade(color, 1.2))
        if direction == "down":
            pen.r(x0 - 1, 6, x1 + 1, 7, shade(color, 0.78))
        elif direction in ("left", "right"):
            pen.r(6, 6, x0 + 3, 7, shade(color, 0.78))
        else:
            pen.r(x0 + 4, 6, x1 - 4, 6, shade(color, 0.78))
    else:
        pen.draw.rounded_rectangle((x0, 0, x1, 7), 4, fill=color)
        pen.r(x0, 6, x1, 7, shade(color, 0.8))
        pen.p((x0 + x1) // 2, 0, shade(color, 1.25))


def _figure(look: Look, direction: str, step: int) -> Image.Image:
    # the left and right frames are mirror images, so only "left" is drawn
    drawn = "left" if direction == "right" else direction
    pen = _Pen(FRAME_W)
    _hair_back(pen, look, drawn)
    _legs(pen, look, drawn, step)
    _torso(pen, look, drawn, step)
    _head(pen, look, drawn)
    _hair_front(pen, look, drawn)
    _hat(pen, look, drawn)
    figure = _outlined(pen.img)
    frame = Image.new("RGBA", (FRAME_W, FRAME_H), (0, 0, 0, 0))
    ImageDraw.Draw(frame).ellipse((9, 27, 22, 31), fill=_SHADOW)
    frame.alpha_composite(figure)
    if direction == "right":
        frame = frame.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return frame


def sprite_sheet_image(name: str) -> Image.Image:
    """The sprite sheet as an RGBA image (a fresh copy, free to change)."""
    look = look_for(name)
    sheet = Image.new("RGBA", (SHEET_W, SHEET_H), (0, 0, 0, 0))
    for row, direction in enumerate(DIRECTIONS):
        for col, step in enumerate(_STEPS):
            sheet.paste(_figure(look, direction, step), (col * FRAME_W, row * FRAME_H))
    return sheet


@lru_cache(maxsize=512)
def sprite_sheet_png(name: str) -> bytes:
    """The 96 x 128 sprite sheet PNG for ``name`` (see the module docstring for the layout)."""
    return png_bytes(sprite_sheet_image(name))


# --- the portrait (drawn at 48 x 48, shown at 96 x 96) -------------------------------

_P = 48


def portrait_image(name: str) -> Image.Image:
    """The 96 x 96 head-and-shoulders portrait as an RGBA image."""
    look = look_for(name)
    pen = _Pen(_P)
    hair, skin, style = look.hair, look.skin, look.hair_style
    back = shade(hair, 0.85)
    if style == "long":
        pen.draw.rounded_rectangle((9, 6, 38, 46), 8, fill=back)
    elif style == "bob":
        pen.draw.rounded_rectangle((9, 6, 38, 34), 8, fill=back)
    elif style == "curly":
        pen.ellipse((5, 0, 42, 36), back)
    elif style == "ponytail":
        pen.ellipse((31, 14, 42, 36), back)
    elif style == "bun":
        pen.ellipse((17, 0, 30, 10), back)

    # shoulders, neck and collar
    pen.draw.rounded_rectangle((4, 37, 43, 56), 9, fill=look.shirt)
    pen.r(19, 30, 28, 38, shade(skin, 0.88))
    pen.draw.polygon(((19, 37), (28, 37), (23, 43)), fill=shade(skin, 0.88))
    pen.draw.line((18, 37, 23, 43), fill=shade(look.shirt, 0.7))
    pen.draw.line((29, 37, 24, 43), fill=shade(look.shirt, 0.7))
    if style == "long":
        pen.r(9, 30, 15, 45, hair)
        pen.r(32, 30, 38, 45, hair)

    # the face
    pen.ellipse((9, 19, 14, 27), shade(skin, 0.92))
    pen.ellipse((33, 19, 38, 27), shade(skin, 0.92))
    pen.ellipse((12, 7, 35, 36), skin)
    for x0 in (17, 27):
        pen.r(x0, 21, x0 + 3, 23, (250, 250, 248))
        pen.r(x0 + 1, 21, x0 + 2, 23, look.eyes)
        pen.p(x0 + 1, 21, (250, 250, 248))
    brow = shade(hair, 0.8) if style != "buzz" else mix(hair, skin, 0.3)
    pen.r(16, 18, 20, 19, brow)
    pen.r(27, 18, 31, 19, brow)
    pen.r(24, 24, 24, 27, shade(skin, 0.84))
    pen.r(23, 27, 24, 27, shade(skin, 0.84))
    blush = mix(skin, (230, 110, 110), 0.3)
    pen.r(15, 27, 17, 28, blush)
    pen.r(30, 27, 32, 28, blush)
    lips = mix(skin, (150, 50, 60), 0.5)
    if look.beard:
        pen.draw.chord((14, 22, 33, 37), 0, 180, fill=hair)
        pen.r(13, 22, 14, 29, hair)
        pen.r(33, 22, 34, 29, hair)
    pen.r(21, 31, 26, 31, lips)
    pen.p(20, 30, lips)
    pen.p(27, 30, lips)

    # hair in front
    light = shade(hair, 1.25) if sum(hair) < 300 else shade(hair, 1.08)
    if style == "buzz":
        pen.draw.chord((12, 6, 35, 28), 180, 360, fill=mix(hair, skin, 0.35))
    elif style == "curly":
        pen.draw.chord((8, 1, 39, 30), 180, 360, fill=hair)
        for x in range(11, 37, 4):
            pen.ellipse((x - 2, 13, x + 2, 17), hair)
            pen.p(x, 8, light)
    else:
        pen.draw.chord((11, 4, 36, 28), 180, 360, fill=hair)
        pen.r(14, 8, 19, 9, light)
        if style in ("long", "bob"):
            pen.r(11, 14, 15, 34 if style == "bob" else 36, hair)
            pen.r(32, 14, 36, 34 if style == "bob" else 36, hair)
            if style == "bob":
                pen.r(14, 14, 33, 16, hair)
        else:
            pen.r(11, 14, 13, 21, hair)
            pen.r(34, 14, 36, 21, hair)
            pen.draw.polygon(((14, 15), (22, 15), (15, 19)), fill=hair)  # a side-swept fringe
        if style == "spiky":
            for x in (12, 18, 24, 30):
                pen.draw.polygon(((x, 8), (x + 3, 0), (x + 6, 8)), fill=hair)
        elif style == "bun":
            pen.ellipse((18, 0, 29, 9), hair)
            pen.p(21, 2, light)
    if look.glasses:
        frame = (40, 40, 46)
        pen.draw.rectangle((15, 19, 22, 25), outline=frame)
        pen.draw.rectangle((25, 19, 32, 25), outline=frame)
        pen.r(23, 21, 24, 21, frame)
    if look.hat == "cap":
        pen.draw.chord((11, 2, 36, 26), 180, 360, fill=look.hat_color)
        pen.r(9, 13, 38, 15, shade(look.hat_color, 0.78))
        pen.r(17, 5, 21, 6, shade(look.hat_color, 1.2))
    elif look.hat == "beanie":
        pen.draw.rounded_rectangle((11, 1, 36, 16), 9, fill=look.hat_color)
        pen.r(11, 12, 36, 16, shade(look.hat_color, 0.82))
        for x in range(13, 35, 3):
            pen.r(x, 12, x, 16, shade(look.hat_color, 0.7))
    img = _outlined(pen.img)
    return img.resize((PORTRAIT_SIZE, PORTRAIT_SIZE), Image.Resampling.NEAREST)


@lru_cache(maxsize=512)
def portrait_png(name: str) -> bytes:
    """The 96 x 96 portrait PNG for ``name``."""
    return png_bytes(portrait_image(name))
