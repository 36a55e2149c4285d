"""The town art: the committed map and tileset match the generator, the map agrees with the
maze, and character sprites are deterministic, distinct and well-formed. Pure: no database."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from reverie.town import build_maze, parse_spec
from reverie.town.art import (
    DIRECTIONS,
    FRAME_H,
    FRAME_W,
    FRAMES,
    LAYER_NAMES,
    OBJECT_LAYER_NAMES,
    build_town_art,
    draw_tile,
    look_for,
    portrait_png,
    sprite_sheet_png,
    sprites,
    write_town_art,
)
from reverie.town.art.tileset import COLLISION_KEY, FALLBACK_KEY, object_key

from .conftest import TINY

ROOT = Path(__file__).resolve().parents[3]
TOWN = ROOT / "static_dirs" / "towns" / "the_ville"
REGENERATE = "python -m reverie.town art the_ville"
PERSONAS = [
    p["name"]
    for p in yaml.safe_load((ROOT / "storage/base/base_the_ville_n25/personas.yaml").read_text(encoding="utf-8"))
]


@pytest.fixture(scope="module")
def art(the_ville):
    return build_town_art(the_ville)


@pytest.fixture(scope="module")
def tiled(art) -> dict[str, Any]:
    return art.map_data


def layer(tiled: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in tiled["layers"] if item["name"] == name)


def grid(tiled: dict[str, Any], name: str) -> np.ndarray:
    return np.array(layer(tiled, name)["data"], dtype=np.int64).reshape(tiled["height"], tiled["width"])


def tile_keys(tiled: dict[str, Any]) -> dict[int, str]:
    """gid -> the tile's key (its ``key`` property)."""
    tileset = tiled["tilesets"][0]
    keys = {}
    for tile in tileset["tiles"]:
        props = {p["name"]: p["value"] for p in tile["properties"]}
        keys[tileset["firstgid"] + tile["id"]] = props["key"]
    return keys


def png_chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8].decode("ascii"))
        pos += 12 + length
    return chunks


# --- the committed files -------------------------------------------------------------


def test_committed_map_json_is_what_the_generator_makes(art):
    path = TOWN / "map.json"
    assert path.exists(), f"{path} is missing: run `{REGENERATE}`"
    committed = path.read_text(encoding="utf-8")
    assert committed == art.map_json, f"{path} is stale (town.yaml or the generator changed): run `{REGENERATE}`"
    assert "\n" not in committed.rstrip("\n"), "map.json is served to browsers: keep it on one line"


def test_committed_tileset_png_is_what_the_generator_makes(art):
    path = TOWN / "tileset.png"
    assert path.exists(), f"{path} is missing: run `{REGENERATE}`"
    with Image.open(path) as committed:
        assert committed.mode == "RGBA"
        assert committed.size == art.tileset.image.size, f"{path} is stale: run `{REGENERATE}`"
        # pixels, not bytes: another zlib build may compress the same pixels differently
        same = np.array_equal(np.asarray(committed), np.asarray(art.tileset.image))
    assert same, f"{path} is stale (the tileset drawing changed): run `{REGENERATE}`"


# --- the map agrees with the maze ----------------------------------------------------


def test_collisions_layer_is_the_maze_collision_grid(the_ville, tiled):
    collisions = grid(tiled, "collisions")
    gids = set(np.unique(collisions[collisions > 0]).tolist())
    assert len(gids) == 1, "the collisions layer uses one dedicated tile"
    (gid,) = gids
    assert tile_keys(tiled)[gid] == COLLISION_KEY
    np.testing.assert_array_equal((collisions > 0).astype(np.uint8), the_ville.collision)
    assert layer(tiled, "collisions")["visible"] is False


def test_ground_walls_and_furniture_agree_with_the_maze(the_ville, tiled):
    keys = tile_keys(tiled)
    ground, walls, furniture = grid(tiled, "ground"), grid(tiled, "walls"), grid(tiled, "furniture")
    assert (ground > 0).all(), "every tile has ground"
    assert (ground[the_ville.collision == 0] > 0).all()
    np.testing.assert_array_equal(walls > 0, the_ville.wall | the_ville.door)
    np.testing.assert_array_equal(furniture > 0, the_ville.game_object > 0)
    for y, x in zip(*np.nonzero(the_ville.door), strict=True):
        assert keys[int(walls[y, x])].startswith("door/")
    for y, x in zip(*np.nonzero(the_ville.wall), strict=True):
        assert keys[int(walls[y, x])].startswith("wall/")
    for y, x in zip(*np.nonzero(ground), strict=True):
        floor = the_ville.floor_legend[int(the_ville.floor[y, x])]
        assert keys[int(ground[y, x])].startswith(f"floor/{floor}/"), (x, y)


def test_every_object_tile_shows_its_kind(the_ville, tiled):
    keys = tile_keys(tiled)
    furniture = grid(tiled, "furniture")
    spec = the_ville.spec
    kinds = {spec.address(s.name, a.name, o.name): o.kind for s, a, o in spec.objects()}
    for y, x in zip(*np.nonzero(the_ville.game_object), strict=True):
        kind = kinds[the_ville.legends["game_object"][int(the_ville.game_object[y, x])]]
        assert keys[int(furniture[y, x])].startswith(f"object/{kind}/"), (x, y, kind)


def test_layers_and_embedded_tileset_have_what_tiled_and_phaser_need(the_ville, tiled, art):
    assert [item["name"] for item in tiled["layers"]] == [*LAYER_NAMES, *OBJECT_LAYER_NAMES]
    assert LAYER_NAMES == ("ground", "walls", "furniture", "collisions")
    assert OBJECT_LAYER_NAMES == ("sectors", "arenas")
    assert {
        "type": tiled["type"],
        "version": tiled["version"],
        "orientation": tiled["orientation"],
        "infinite": tiled["infinite"],
        "renderorder": tiled["renderorder"],
        "width": tiled["width"],
        "height": tiled["height"],
        "tilewidth": tiled["tilewidth"],
        "tileheight": tiled["tileheight"],
    } == {
        "type": "map",
        "version": "1.10",
        "orientation": "orthogonal",
        "infinite": False,
        "renderorder": "right-down",
        "width": 140,
        "height": 100,
        "tilewidth": 32,
        "tileheight": 32,
    }
    assert tiled["tiledversion"].startswith("1.10")
    ids = [item["id"] for item in tiled["layers"]]
    assert len(set(ids)) == len(ids) and tiled["nextlayerid"] > max(ids)
    for item in tiled["layers"]:
        assert {"id", "name", "type", "visible", "opacity", "x", "y"} <= set(item)
        if item["name"] in LAYER_NAMES:
            assert item["type"] == "tilelayer"
            assert (item["width"], item["height"]) == (140, 100)
            assert len(item["data"]) == 140 * 100 and "encoding" not in item
        else:
            assert item["type"] == "objectgroup"

    (tileset,) = tiled["tilesets"]
    assert "source" not in tileset, "the tileset is embedded, not an external .tsx"
    image = art.tileset.image
    assert tileset["image"] == "tileset.png"
    assert (tileset["imagewidth"], tileset["imageheight"]) == image.size
    assert (tileset["tilewidth"], tileset["tileheight"]) == (32, 32)
    assert (tileset["firstgid"], tileset["margin"], tileset["spacing"]) == (1, 0, 0)
    assert tileset["columns"] == image.width // 32
    rows = image.height // 32
    assert (rows - 1) * tileset["columns"] < tileset["tilecount"] <= rows * tileset["columns"]
    assert tileset["name"]
    top = tileset["firstgid"] + tileset["tilecount"] - 1
    for name in LAYER_NAMES:
        data = layer(tiled, name)["data"]
        assert min(data) >= 0 and max(data) <= top
    collides = [
        t["id"] for t in tileset["tiles"] if any(p["name"] == "collides" and p["value"] for p in t["properties"])
    ]
    assert [tileset["firstgid"] + i for i in collides] == [int(np.max(grid(tiled, "collisions")))]


def test_every_sector_and_arena_is_a_labelled_rectangle(the_ville, tiled):
    size = the_ville.tile_size
    spec = the_ville.spec
    sectors = {o["name"]: o for o in layer(tiled, "sectors")["objects"]}
    assert list(sectors) == [s.name for s in spec.sectors]
    for sector in spec.sectors:
        obj = sectors[sector.name]
        assert (obj["x"], obj["y"], obj["width"], obj["height"]) == (
            sector.rect.x * size,
            sector.rect.y * size,
            sector.rect.w * size,
            sector.rect.h * size,
        )
        props = {p["name"]: p["value"] for p in obj["properties"]}
        assert props == {"address": spec.address(sector.name), "kind": sector.kind}
    arenas = layer(tiled, "arenas")["objects"]
    assert len(arenas) == len(the_ville.legends["arena"])
    for obj, (sector, arena) in zip(arenas, spec.arenas(), strict=True):
        assert obj["name"] == arena.name
        assert (obj["x"], obj["y"], obj["width"], obj["height"]) == tuple(v * size for v in arena.rect.as_list())
        assert {p["name"]: p["value"] for p in obj["properties"]}["address"] == spec.address(sector.name, arena.name)
    ids = [o["id"] for o in layer(tiled, "sectors")["objects"] + arenas]
    assert len(set(ids)) == len(ids) and tiled["nextobjectid"] > max(ids)


def test_map_json_is_compact_and_round_trips(art):
    assert json.loads(art.map_json) == art.map_data
    assert ": " not in art.map_json[:200] and ", " not in art.map_json[:200]


def test_a_small_town_with_other_tile_size_works():
    data = copy.deepcopy(TINY)
    data["tile_size"] = 16
    maze = build_maze(parse_spec(data, source="tiny"))
    result = build_town_art(maze)
    tiled = result.map_data
    assert tiled["tilewidth"] == 16 and result.tileset.image.width == 16 * result.tileset.columns
    np.testing.assert_array_equal((grid(tiled, "collisions") > 0).astype(np.uint8), maze.collision)
    names = {o["name"] for o in layer(tiled, "sectors")["objects"]}
    assert names == {"Ada's house", "park"}


# --- the tileset ---------------------------------------------------------------------


def test_the_tileset_has_a_tile_for_every_object_kind_in_the_town(the_ville, art):
    keys = set(art.tileset.keys)
    for kind in {o.kind for _, _, o in the_ville.spec.objects()}:
        assert object_key(kind) in keys, kind
    assert FALLBACK_KEY in keys and COLLISION_KEY in keys
    assert object_key("no such kind") == FALLBACK_KEY


def test_tiles_are_deterministic_and_bad_keys_are_refused():
    for key in ("floor/grass/2", "wall/brick/5", "door/wood/v", "object/bed/4", COLLISION_KEY):
        a, b = draw_tile(key), draw_tile(key)
        assert a.size == (32, 32) and a.mode == "RGBA"
        assert a.tobytes() == b.tobytes()
    for bad in ("floor/lava/0", "object/bed/16", "wall/brick", "", "../../etc/passwd"):
        with pytest.raises(ValueError):
            draw_tile(bad)


# --- sprites -------------------------------------------------------------------------


def test_sprite_constants():
    assert (FRAME_W, FRAME_H, FRAMES) == (32, 32, 3)
    assert DIRECTIONS == ("down", "left", "right", "up")


def test_sprite_sheet_and_portrait_shape_and_transparency():
    with Image.open(io.BytesIO(sprite_sheet_png("Isabella Rodriguez"))) as sheet:
        assert sheet.size == (FRAME_W * FRAMES, FRAME_H * len(DIRECTIONS)) == (96, 128)
        assert sheet.mode == "RGBA"
        alpha = np.asarray(sheet)[..., 3]
    for row in range(len(DIRECTIONS)):
        for col in range(FRAMES):
            frame = alpha[row * 32 : row * 32 + 32, col * 32 : col * 32 + 32]
            assert frame[[0, 0, 31, 31], [0, 31, 0, 31]].max() == 0, "background must be transparent"
            assert (frame == 255).sum() > 150, "every frame shows the character"
    with Image.open(io.BytesIO(portrait_png("Isabella Rodriguez"))) as portrait:
        assert portrait.size == (96, 96) and portrait.mode == "RGBA"
        corners = np.asarray(portrait)[[0, 0, 95], [0, 95, 0], 3]
        assert corners.max() == 0


def test_walking_frames_differ_and_left_mirrors_right():
    sheet = np.asarray(Image.open(io.BytesIO(sprite_sheet_png("Klaus Mueller"))))
    down = [sheet[0:32, c * 32 : c * 32 + 32] for c in range(3)]
    assert not np.array_equal(down[0], down[1]) and not np.array_equal(down[0], down[2])
    left, right = sheet[32:64, 32:64], sheet[64:96, 32:64]
    np.testing.assert_array_equal(left[:, ::-1], right)


def test_sprites_are_byte_deterministic_and_do_not_depend_on_python_hash():
    name = "Isabella Rodriguez"
    first = sprite_sheet_png(name)
    sprite_sheet_png.cache_clear()
    portrait_png.cache_clear()
    assert sprite_sheet_png(name) == first
    code = (
        "import hashlib; from reverie.town.art import sprite_sheet_png, portrait_png;"
        f"print(hashlib.sha256(sprite_sheet_png({name!r}) + portrait_png({name!r})).hexdigest())"
    )
    expected = hashlib.sha256(first + portrait_png(name)).hexdigest()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [sys.executable, "-c", code]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected


def test_sprite_png_has_no_metadata():
    assert png_chunks(sprite_sheet_png("Maria Lopez")) == ["IHDR", "IDAT", "IEND"]
    assert png_chunks(portrait_png("Maria Lopez")) == ["IHDR", "IDAT", "IEND"]


def test_the_25_personas_all_look_different():
    assert len(PERSONAS) == 25
    sheets = {name: sprite_sheet_png(name) for name in PERSONAS}
    portraits = {name: portrait_png(name) for name in PERSONAS}
    for a, b in combinations(PERSONAS, 2):
        assert sheets[a] != sheets[b], (a, b)
        assert portraits[a] != portraits[b], (a, b)
        assert look_for(a) != look_for(b), (a, b)


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "李明", "", "\ud800", "Zoë", "x" * 10_000])
def test_odd_names_still_draw(name):
    sheet, portrait = sprite_sheet_png(name), portrait_png(name)
    with Image.open(io.BytesIO(sheet)) as img:
        assert img.size == (96, 128)
    with Image.open(io.BytesIO(portrait)) as img:
        assert img.size == (96, 96)
    assert sprite_sheet_png(name) == sheet


def test_a_name_must_be_a_string():
    with pytest.raises(TypeError):
        look_for(42)  # type: ignore[arg-type]


def test_a_sprite_sheet_takes_well_under_20_ms():
    names = [f"Speed Test {i}" for i in range(40)]
    started = time.perf_counter()
    for name in names:
        sprites.sprite_sheet_png.__wrapped__(name)
    assert (time.perf_counter() - started) / len(names) < 0.020


# --- writing and the command line ----------------------------------------------------


def test_write_town_art_writes_both_files(tmp_path, art):
    paths = write_town_art("the_ville", tmp_path)
    assert paths == [tmp_path / "map.json", tmp_path / "tileset.png"]
    assert (tmp_path / "map.json").read_text(encoding="utf-8") == art.map_json


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reverie.town", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_art_writes_the_map_and_tileset(tmp_path, art):
    out = run_cli("art", "the_ville", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "map.json" in out.stdout and "tileset.png" in out.stdout
    assert (tmp_path / "map.json").read_text(encoding="utf-8") == art.map_json
    with Image.open(tmp_path / "tileset.png") as img:
        assert np.array_equal(np.asarray(img), np.asarray(art.tileset.image))


def test_cli_art_refuses_an_invalid_town(tmp_path):
    bad = copy.deepcopy(TINY)
    bad["sectors"][0]["arenas"][0]["objects"][0]["kind"] = "sofaa"
    spec = tmp_path / "bad" / "town.yaml"
    spec.parent.mkdir()
    spec.write_text(yaml.safe_dump(bad), encoding="utf-8")
    out = run_cli("art", str(spec.parent), "-o", str(tmp_path / "out"))
    assert out.returncode == 1
    assert "did you mean 'sofa'" in out.stderr
    assert not (tmp_path / "out").exists()


def test_cli_sprites_writes_sheet_and_portrait(tmp_path):
    out = run_cli("sprites", "Isabella Rodriguez", "<b>x</b>", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "Isabella_Rodriguez.sheet.png").read_bytes() == sprite_sheet_png("Isabella Rodriguez")
    assert (tmp_path / "Isabella_Rodriguez.portrait.png").read_bytes() == portrait_png("Isabella Rodriguez")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) == 4 and all("<" not in p and "/" not in p for p in written)
