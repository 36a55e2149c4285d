"""Our own household rooms and tasks, the source of the offline ALFWorld problems.

Everything here is written for this project: the floor plans, what lies where, the
goals. What carries over from ALFWorld is the vocabulary the ALFRED PDDL domain
(`alfworld/data/alfred.pddl`) and ALFWorld's tasks use: ALFRED's object and receptacle
type names (`Mug`, `CoffeeMachine`, `SinkBasin`), which receptacles open, which objects
can be cleaned, heated, cooled or switched on, the six task types, and the goal
sentences' forms ("put a clean mug in coffeemachine").

A room is a floor plan (its receptacles, named as the player sees them: "cabinet 1")
plus, per task, what lies in or on each receptacle. `problem.py` turns one into a PDDL
problem in the ALFRED domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)

# Display name (what the player types) -> ALFRED type name (what the PDDL says).
RECEPTACLE_TYPES = {
    "armchair": "ArmChair",
    "bathtubbasin": "BathtubBasin",
    "bed": "Bed",
    "cabinet": "Cabinet",
    "coffeemachine": "CoffeeMachine",
    "coffeetable": "CoffeeTable",
    "countertop": "CounterTop",
    "desk": "Desk",
    "diningtable": "DiningTable",
    "drawer": "Drawer",
    "dresser": "Dresser",
    "fridge": "Fridge",
    "garbagecan": "GarbageCan",
    "handtowelholder": "HandTowelHolder",
    "laundryhamper": "LaundryHamper",
    "microwave": "Microwave",
    "safe": "Safe",
    "shelf": "Shelf",
    "sidetable": "SideTable",
    "sinkbasin": "SinkBasin",
    "sofa": "Sofa",
    "stoveburner": "StoveBurner",
    "toaster": "Toaster",
    "toilet": "Toilet",
    "toiletpaperhanger": "ToiletPaperHanger",
    "towelholder": "TowelHolder",
    "tvstand": "TVStand",
}

OBJECT_TYPES = {
    "alarmclock": "AlarmClock",
    "apple": "Apple",
    "book": "Book",
    "bowl": "Bowl",
    "bread": "Bread",
    "butterknife": "ButterKnife",
    "candle": "Candle",
    "cd": "CD",
    "cellphone": "CellPhone",
    "cloth": "Cloth",
    "creditcard": "CreditCard",
    "cup": "Cup",
    "desklamp": "DeskLamp",
    "dishsponge": "DishSponge",
    "egg": "Egg",
    "fork": "Fork",
    "handtowel": "HandTowel",
    "kettle": "Kettle",
    "keychain": "KeyChain",
    "knife": "Knife",
    "laptop": "Laptop",
    "lettuce": "Lettuce",
    "mug": "Mug",
    "newspaper": "Newspaper",
    "pan": "Pan",
    "pen": "Pen",
    "pencil": "Pencil",
    "peppershaker": "PepperShaker",
    "pillow": "Pillow",
    "plate": "Plate",
    "pot": "Pot",
    "potato": "Potato",
    "remotecontrol": "RemoteControl",
    "saltshaker": "SaltShaker",
    "soapbar": "SoapBar",
    "soapbottle": "SoapBottle",
    "spatula": "Spatula",
    "spoon": "Spoon",
    "spraybottle": "SprayBottle",
    "statue": "Statue",
    "tissuebox": "TissueBox",
    "toiletpaper": "ToiletPaper",
    "tomato": "Tomato",
    "towel": "Towel",
    "vase": "Vase",
    "watch": "Watch",
    "winebottle": "WineBottle",
}

# The domain's actions name these types as constants (CleanObject needs a SinkBasinType
# receptacle, SliceObject a knife), so every problem declares them, present or not.
DOMAIN_RTYPES = ("Fridge", "Microwave", "SinkBasin")
DOMAIN_OTYPES = ("ButterKnife", "Knife")

OPENABLE = frozenset({"cabinet", "drawer", "fridge", "microwave", "safe"})
TOGGLEABLE = frozenset({"desklamp"})  # lamps stand on furniture and cannot be taken
HEATABLE = frozenset({"apple", "bread", "cup", "egg", "mug", "plate", "potato", "tomato"})
COOLABLE = frozenset(
    {"apple", "bowl", "bread", "cup", "egg", "lettuce", "mug", "pan", "plate", "pot", "potato", "tomato", "winebottle"}
)
CLEANABLE = frozenset(
    {
        "apple",
        "bowl",
        "butterknife",
        "cloth",
        "cup",
        "dishsponge",
        "egg",
        "fork",
        "kettle",
        "knife",
        "lettuce",
        "mug",
        "pan",
        "plate",
        "pot",
        "potato",
        "soapbar",
        "spatula",
        "spoon",
        "tomato",
    }
)

_PORTABLE = frozenset(OBJECT_TYPES) - TOGGLEABLE
_SMALL = frozenset(
    {
        "alarmclock",
        "book",
        "butterknife",
        "candle",
        "cd",
        "cellphone",
        "cloth",
        "creditcard",
        "dishsponge",
        "fork",
        "handtowel",
        "keychain",
        "knife",
        "newspaper",
        "pen",
        "pencil",
        "peppershaker",
        "remotecontrol",
        "saltshaker",
        "soapbar",
        "soapbottle",
        "spatula",
        "spoon",
        "spraybottle",
        "tissuebox",
        "toiletpaper",
        "watch",
    }
)
_FOOD_AND_DISHES = frozenset(
    {"apple", "bowl", "bread", "cup", "egg", "lettuce", "mug", "pan", "plate", "pot", "potato", "tomato"}
)
_SEAT = frozenset(
    {"book", "cd", "cellphone", "creditcard", "keychain", "laptop", "newspaper", "pen", "pencil", "pillow"}
    | {"remotecontrol", "watch"}
)
_SURFACE = _PORTABLE | TOGGLEABLE  # tables and shelves hold anything, lamps included

# What each receptacle type can hold (the domain's canContain facts).
CAN_CONTAIN: dict[str, frozenset[str]] = {
    "armchair": _SEAT,
    "bathtubbasin": frozenset({"cloth", "dishsponge", "handtowel", "soapbar", "soapbottle"}),
    "bed": _SEAT,
    "cabinet": _PORTABLE - {"pillow", "laptop"},
    "coffeemachine": frozenset({"cup", "mug"}),
    "coffeetable": _SURFACE,
    "countertop": _SURFACE,
    "desk": _SURFACE,
    "diningtable": _SURFACE,
    "drawer": _SMALL,
    "dresser": _SURFACE,
    "fridge": _FOOD_AND_DISHES | {"winebottle"},
    "garbagecan": _PORTABLE - {"pillow", "laptop", "pan", "pot", "kettle"},
    "handtowelholder": frozenset({"handtowel"}),
    "laundryhamper": frozenset({"cloth", "handtowel", "towel"}),
    "microwave": frozenset({"apple", "bowl", "bread", "cup", "egg", "mug", "plate", "potato", "tomato"}),
    "safe": frozenset({"cd", "cellphone", "creditcard", "keychain", "statue", "vase", "watch"}),
    "shelf": _SURFACE - {"pillow"},
    "sidetable": _SURFACE,
    "sinkbasin": (_FOOD_AND_DISHES - {"bread"})
    | {"butterknife", "cloth", "dishsponge", "fork", "kettle", "knife"}
    | {"soapbar", "spatula", "spoon"},
    "sofa": _SEAT,
    "stoveburner": frozenset({"kettle", "pan", "pot"}),
    "toaster": frozenset({"bread"}),
    "toilet": frozenset({"candle", "cloth", "handtowel", "soapbar", "soapbottle", "spraybottle", "tissuebox"})
    | {"toiletpaper"},
    "toiletpaperhanger": frozenset({"toiletpaper"}),
    "towelholder": frozenset({"towel"}),
    "tvstand": _SURFACE,
}


@dataclass(frozen=True)
class FloorPlan:
    name: str
    receptacles: tuple[str, ...]  # "cabinet 1", "countertop 1", ... in the order written

    @classmethod
    def of(cls, name: str, **counts: int) -> FloorPlan:
        """FloorPlan.of("kitchen", cabinet=2, fridge=1) has cabinet 1, cabinet 2 and fridge 1."""
        return cls(name, tuple(f"{kind} {i}" for kind, n in counts.items() for i in range(1, n + 1)))


@dataclass(frozen=True)
class HouseTask:
    id: str
    plan: FloorPlan
    type: str  # one of TASK_TYPES
    goal: str  # the sentence after "Your task is to: " (no final full stop)
    obj: str  # the object type to act on ("mug")
    recep: str | None  # the receptacle type it must end in ("coffeemachine"); None for look_at
    toggle: str | None  # the lamp type for look_at_obj_in_light ("desklamp")
    contents: Mapping[str, tuple[str, ...]]  # receptacle -> objects in or on it at the start


KITCHEN_A = FloorPlan.of(
    "kitchen_a",
    cabinet=6,
    coffeemachine=1,
    countertop=2,
    diningtable=1,
    drawer=3,
    fridge=1,
    garbagecan=1,
    microwave=1,
    sinkbasin=1,
    stoveburner=4,
    toaster=1,
)
KITCHEN_B = FloorPlan.of(
    "kitchen_b",
    cabinet=8,
    coffeemachine=1,
    countertop=1,
    drawer=4,
    fridge=1,
    garbagecan=1,
    microwave=1,
    shelf=2,
    sinkbasin=1,
    stoveburner=2,
)
BEDROOM_A = FloorPlan.of(
    "bedroom_a", bed=1, desk=1, drawer=5, dresser=1, garbagecan=1, laundryhamper=1, safe=1, shelf=4, sidetable=1
)
LIVINGROOM_A = FloorPlan.of(
    "livingroom_a",
    armchair=1,
    cabinet=2,
    coffeetable=1,
    drawer=3,
    garbagecan=1,
    shelf=2,
    sidetable=2,
    sofa=1,
    tvstand=1,
)
BATHROOM_A = FloorPlan.of(
    "bathroom_a",
    bathtubbasin=1,
    cabinet=4,
    countertop=1,
    garbagecan=1,
    handtowelholder=1,
    sinkbasin=2,
    toilet=1,
    toiletpaperhanger=1,
    towelholder=1,
)
# Only for the few-shot examples in prompts/alfworld_examples.txt (never in the sample set).
KITCHEN_C = FloorPlan.of(
    "kitchen_c",
    cabinet=4,
    countertop=1,
    diningtable=1,
    drawer=2,
    fridge=1,
    garbagecan=1,
    microwave=1,
    sinkbasin=1,
    stoveburner=2,
)
STUDY_A = FloorPlan.of("study_a", armchair=1, desk=1, drawer=3, garbagecan=1, shelf=3, sidetable=1)

SAMPLE_TASKS: tuple[HouseTask, ...] = (
    HouseTask(
        "kitchen_a-clean-mug",
        KITCHEN_A,
        "pick_clean_then_place_in_recep",
        "put a clean mug in coffeemachine",
        "mug",
        "coffeemachine",
        None,
        {
            "cabinet 2": ("bowl 1",),
            "cabinet 4": ("mug 1",),
            "cabinet 5": ("saltshaker 1",),
            "countertop 1": ("apple 1", "butterknife 1", "peppershaker 1"),
            "countertop 2": ("bread 1", "spatula 1"),
            "diningtable 1": ("cup 1", "fork 1", "plate 1"),
            "drawer 1": ("spoon 1",),
            "fridge 1": ("egg 1", "lettuce 1"),
            "sinkbasin 1": ("dishsponge 1",),
            "stoveburner 2": ("pan 1",),
        },
    ),
    HouseTask(
        "kitchen_a-heat-egg",
        KITCHEN_A,
        "pick_heat_then_place_in_recep",
        "heat some egg and put it in diningtable",
        "egg",
        "diningtable",
        None,
        {
            "cabinet 1": ("plate 1",),
            "cabinet 3": ("bowl 1",),
            "coffeemachine 1": ("mug 1",),
            "countertop 1": ("knife 1", "tomato 1"),
            "countertop 2": ("bread 1", "peppershaker 1"),
            "diningtable 1": ("fork 1", "spoon 1"),
            "drawer 2": ("butterknife 1",),
            "fridge 1": ("egg 1", "potato 1", "winebottle 1"),
            "garbagecan 1": ("apple 1",),
            "stoveburner 1": ("pot 1",),
        },
    ),
    HouseTask(
        "kitchen_a-cool-bread",
        KITCHEN_A,
        "pick_cool_then_place_in_recep",
        "put a cool bread in countertop",
        "bread",
        "countertop",
        None,
        {
            "cabinet 2": ("cup 1",),
            "cabinet 6": ("plate 1",),
            "countertop 1": ("dishsponge 1", "spatula 1"),
            "diningtable 1": ("apple 1", "bread 1", "lettuce 1"),
            "drawer 3": ("fork 1",),
            "fridge 1": ("egg 1", "tomato 1"),
            "microwave 1": ("potato 1",),
            "stoveburner 3": ("kettle 1",),
            "toaster 1": (),
        },
    ),
    HouseTask(
        "kitchen_b-cool-pan",
        KITCHEN_B,
        "pick_cool_then_place_in_recep",
        "cool some pan and put it in stoveburner",
        "pan",
        "stoveburner",
        None,
        {
            "cabinet 1": ("bowl 1",),
            "cabinet 3": ("pan 1",),
            "cabinet 7": ("plate 1", "plate 2"),
            "countertop 1": ("apple 1", "knife 1", "soapbottle 1"),
            "drawer 2": ("spoon 1",),
            "fridge 1": ("lettuce 1", "winebottle 1"),
            "shelf 1": ("saltshaker 1",),
            "sinkbasin 1": ("cup 1",),
            "stoveburner 2": ("pot 1",),
        },
    ),
    HouseTask(
        "kitchen_b-heat-mug",
        KITCHEN_B,
        "pick_heat_then_place_in_recep",
        "put a hot mug in cabinet",
        "mug",
        "cabinet",
        None,
        {
            "cabinet 2": ("plate 1",),
            "cabinet 5": ("bowl 1",),
            "countertop 1": ("bread 1", "egg 1", "mug 1"),
            "drawer 1": ("fork 1",),
            "drawer 4": ("spatula 1",),
            "fridge 1": ("potato 1", "tomato 1"),
            "shelf 2": ("peppershaker 1", "vase 1"),
            "sinkbasin 1": ("dishsponge 1",),
            "stoveburner 1": ("kettle 1",),
        },
    ),
    HouseTask(
        "kitchen_b-place-peppershaker",
        KITCHEN_B,
        "pick_and_place_simple",
        "put a peppershaker in drawer",
        "peppershaker",
        "drawer",
        None,
        {
            "cabinet 4": ("bowl 1",),
            "cabinet 6": ("peppershaker 1",),
            "coffeemachine 1": ("mug 1",),
            "countertop 1": ("apple 1", "saltshaker 1", "spoon 1"),
            "drawer 3": ("knife 1",),
            "fridge 1": ("egg 1",),
            "shelf 1": ("soapbottle 1",),
            "stoveburner 2": ("pan 1",),
        },
    ),
    HouseTask(
        "bedroom_a-look-alarmclock",
        BEDROOM_A,
        "look_at_obj_in_light",
        "look at alarmclock under the desklamp",
        "alarmclock",
        None,
        "desklamp",
        {
            "bed 1": ("laptop 1", "pillow 1"),
            "desk 1": ("desklamp 1", "pen 1"),
            "drawer 2": ("creditcard 1",),
            "dresser 1": ("book 1", "cellphone 1"),
            "shelf 3": ("alarmclock 1", "keychain 1"),
            "sidetable 1": ("cd 1",),
        },
    ),
    HouseTask(
        "bedroom_a-two-cd",
        BEDROOM_A,
        "pick_two_obj_and_place",
        "find two cd and put them in safe",
        "cd",
        "safe",
        None,
        {
            "bed 1": ("pillow 1",),
            "desk 1": ("desklamp 1", "pencil 1"),
            "drawer 1": ("cd 1",),
            "drawer 4": ("watch 1",),
            "dresser 1": ("alarmclock 1",),
            "shelf 2": ("cd 2", "vase 1"),
            "sidetable 1": ("book 1", "cellphone 1"),
        },
    ),
    HouseTask(
        "livingroom_a-place-remotecontrol",
        LIVINGROOM_A,
        "pick_and_place_simple",
        "put a remotecontrol in armchair",
        "remotecontrol",
        "armchair",
        None,
        {
            "cabinet 1": ("vase 1",),
            "coffeetable 1": ("newspaper 1", "remotecontrol 1"),
            "drawer 2": ("keychain 1",),
            "shelf 1": ("statue 1",),
            "sidetable 1": ("desklamp 1", "creditcard 1"),
            "sofa 1": ("pillow 1",),
            "tvstand 1": ("laptop 1",),
        },
    ),
    HouseTask(
        "livingroom_a-look-statue",
        LIVINGROOM_A,
        "look_at_obj_in_light",
        "examine the statue with the desklamp",
        "statue",
        None,
        "desklamp",
        {
            "armchair 1": ("newspaper 1",),
            "cabinet 2": ("vase 1",),
            "coffeetable 1": ("book 1", "remotecontrol 1"),
            "shelf 2": ("statue 1",),
            "sidetable 2": ("desklamp 1", "keychain 1"),
            "sofa 1": ("pillow 1",),
        },
    ),
    HouseTask(
        "livingroom_a-two-keychain",
        LIVINGROOM_A,
        "pick_two_obj_and_place",
        "put two keychain in sofa",
        "keychain",
        "sofa",
        None,
        {
            "armchair 1": ("pillow 1",),
            "coffeetable 1": ("keychain 1", "newspaper 1"),
            "drawer 3": ("keychain 2",),
            "shelf 1": ("vase 1",),
            "sidetable 1": ("desklamp 1", "remotecontrol 1"),
            "tvstand 1": ("laptop 1", "statue 1"),
        },
    ),
    HouseTask(
        "bathroom_a-clean-cloth",
        BATHROOM_A,
        "pick_clean_then_place_in_recep",
        "clean some cloth and put it in countertop",
        "cloth",
        "countertop",
        None,
        {
            "bathtubbasin 1": ("soapbar 1",),
            "cabinet 1": ("toiletpaper 1",),
            "cabinet 3": ("cloth 1", "spraybottle 1"),
            "countertop 1": ("candle 1", "soapbottle 1"),
            "garbagecan 1": ("tissuebox 1",),
            "towelholder 1": ("towel 1",),
        },
    ),
    HouseTask(
        "bathroom_a-two-soapbar",
        BATHROOM_A,
        "pick_two_obj_and_place",
        "put two soapbar in cabinet",
        "soapbar",
        "cabinet",
        None,
        {
            "bathtubbasin 1": ("soapbar 1",),
            "cabinet 2": ("candle 1",),
            "countertop 1": ("soapbar 2", "soapbottle 1"),
            "handtowelholder 1": ("handtowel 1",),
            "toilet 1": ("spraybottle 1",),
            "toiletpaperhanger 1": ("toiletpaper 1",),
        },
    ),
    HouseTask(
        "bathroom_a-place-spraybottle",
        BATHROOM_A,
        "pick_and_place_simple",
        "put some spraybottle on toilet",
        "spraybottle",
        "toilet",
        None,
        {
            "cabinet 1": ("cloth 1",),
            "cabinet 2": ("spraybottle 1", "toiletpaper 1"),
            "countertop 1": ("soapbottle 1",),
            "garbagecan 1": ("soapbar 1",),
            "sinkbasin 2": ("dishsponge 1",),
            "towelholder 1": ("towel 1",),
        },
    ),
)

# The two solved games of prompts/alfworld_examples.txt: rooms and goals of their own.
EXAMPLE_TASKS: tuple[HouseTask, ...] = (
    HouseTask(
        "kitchen_c-clean-spatula",
        KITCHEN_C,
        "pick_clean_then_place_in_recep",
        "put a clean spatula in drawer",
        "spatula",
        "drawer",
        None,
        {
            "cabinet 1": ("bowl 1",),
            "countertop 1": ("bread 1", "knife 1"),
            "diningtable 1": ("cup 1", "spatula 1", "tomato 1"),
            "drawer 2": ("fork 1",),
            "fridge 1": ("egg 1",),
            "stoveburner 2": ("pot 1",),
        },
    ),
    HouseTask(
        "study_a-look-cellphone",
        STUDY_A,
        "look_at_obj_in_light",
        "look at cellphone under the desklamp",
        "cellphone",
        None,
        "desklamp",
        {
            "armchair 1": ("pillow 1",),
            "desk 1": ("laptop 1", "pencil 1"),
            "drawer 1": ("creditcard 1",),
            "drawer 2": ("cellphone 1",),
            "shelf 2": ("book 1",),
            "sidetable 1": ("desklamp 1", "watch 1"),
        },
    ),
)
