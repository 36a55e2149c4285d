"""The word lists the catalogue generator draws from (all invented for this project).

One entry per category. A product gets one brand, one type, one title adjective, 3-5
attributes from its category's pool and a few values of each option group. Brands are
made-up names, so no product is a real one. Keep attribute phrases out of the
description tails: the reward also finds an attribute in the product's text, and a
tail that said "long lasting" would hand that attribute to every product of the
category.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CategoryWords:
    name: str  # short name, also the task ids' middle part
    path: tuple[str, str]  # department and category; the product type is the third level
    types: tuple[str, ...]  # product types, lower case, as a shopper would type them
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]  # one goes into the title before the type
    attributes: tuple[str, ...]
    options: dict[str, tuple[str, ...]]  # option group -> the values a product may offer
    price: tuple[int, int]  # dollars, low and high
    uses: tuple[str, ...]  # "made for ..." in the description
    tails: tuple[str, ...] = field(default=())  # the rest of a feature bullet
    # Option groups that differ for one type (cables come in lengths, pods in counts).
    type_options: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def options_for(self, kind: str) -> dict[str, tuple[str, ...]]:
        return {**self.options, **self.type_options.get(kind, {})}


CATEGORIES: tuple[CategoryWords, ...] = (
    CategoryWords(
        name="shoes",
        path=("Clothing, Shoes & Jewelry", "Shoes"),
        types=("running shoes", "hiking boots", "canvas sneakers", "slip on loafers", "rain boots"),
        brands=("Stridewell", "Trailmark", "Pebblefoot", "Northvane"),
        adjectives=("classic", "everyday", "sport", "urban"),
        attributes=(
            "non slip",
            "rubber sole",
            "lightweight",
            "memory foam",
            "waterproof",
            "arch support",
            "breathable",
            "wide toe box",
        ),
        options={
            "size": ("6", "7", "7.5", "8", "8.5", "9", "9.5", "10", "11", "12"),
            "color": ("black", "white", "navy", "grey", "brown", "olive", "red"),
        },
        price=(25, 140),
        uses=("long walks on city streets", "weekend trails", "standing all day at work", "wet autumn mornings"),
        tails=("keeps its shape after months of wear", "checked on a 200 mile walking test", "fits true to size"),
    ),
    CategoryWords(
        name="shirts",
        path=("Clothing, Shoes & Jewelry", "Shirts"),
        types=("t-shirt", "button down shirt", "polo shirt", "flannel shirt", "henley shirt"),
        brands=("Loomwright", "Harbor & Pine", "Cotswold Row", "Fennick"),
        adjectives=("essential", "heritage", "soft", "modern"),
        attributes=(
            "machine wash",
            "100% cotton",
            "wrinkle free",
            "slim fit",
            "short sleeve",
            "long sleeve",
            "moisture wicking",
            "relaxed fit",
        ),
        options={
            "size": ("small", "medium", "large", "x-large", "xx-large"),
            "color": ("black", "white", "heather grey", "navy", "forest green", "burgundy", "sky blue"),
        },
        price=(12, 60),
        uses=("the office and the weekend", "warm summer days", "layering in cool weather", "travel"),
        tails=("cut and sewn in small batches", "holds its color wash after wash", "tag free neck label"),
    ),
    CategoryWords(
        name="headphones",
        path=("Electronics", "Headphones"),
        types=("wireless earbuds", "over ear headphones", "sports earphones", "gaming headset", "kids headphones"),
        brands=("Auralis", "Quietbay", "Sonderlyn", "Pulsebeat"),
        adjectives=("pro", "studio", "compact", "premium"),
        attributes=(
            "noise cancelling",
            "bluetooth 5.3",
            "long battery life",
            "fast charging",
            "water resistant",
            "built-in microphone",
            "hands free",
            "foldable",
        ),
        options={
            "color": ("black", "white", "midnight blue", "rose gold", "silver", "sage green"),
            "style": ("standard", "with charging case", "with travel pouch"),
        },
        price=(20, 300),
        uses=("commutes and flights", "workouts", "long gaming nights", "calls from a home office"),
        tails=("tuned by our own audio team", "pairs in seconds with phones and laptops", "two year warranty"),
    ),
    CategoryWords(
        name="coffee",
        path=("Grocery & Gourmet Food", "Coffee"),
        types=("whole bean coffee", "ground coffee", "coffee pods", "instant coffee", "cold brew concentrate"),
        brands=("Beanhollow", "Morning Ridge", "Copperkettle", "Alto Verde"),
        adjectives=("smooth", "bold", "single origin", "house blend"),
        attributes=(
            "gluten free",
            "non gmo",
            "fair trade",
            "usda organic",
            "low acid",
            "kosher certified",
            "sugar free",
            "small batch roasted",
        ),
        options={
            "flavor": ("original", "french vanilla", "hazelnut", "caramel", "mocha", "dark roast", "medium roast"),
            "size": ("10 ounce", "12 ounce", "1 pound", "2 pound"),
        },
        price=(8, 45),
        uses=(
            "a slow weekend breakfast",
            "the first cup of a busy day",
            "an afternoon pick me up",
            "the office pantry",
        ),
        tails=("roasted within days of packing", "resealable bag keeps it fresh", "notes of cocoa and toasted nuts"),
        type_options={
            "coffee pods": {"size": ("12 count", "24 count", "48 count", "96 count")},
            "cold brew concentrate": {"size": ("16 fl oz", "32 fl oz", "64 fl oz")},
        },
    ),
    CategoryWords(
        name="skincare",
        path=("Beauty & Personal Care", "Skin Care"),
        types=("face moisturizer", "vitamin c serum", "sunscreen lotion", "facial cleanser", "eye cream"),
        brands=("Dewlane", "Verabloom", "Clearwell", "Lumen & Leaf"),
        adjectives=("daily", "gentle", "hydrating", "restoring"),
        attributes=(
            "fragrance free",
            "paraben free",
            "cruelty free",
            "long lasting",
            "dermatologist tested",
            "hyaluronic acid",
            "sensitive skin",
            "oil free",
        ),
        options={
            "size": ("1 fl oz", "1.7 fl oz", "3.4 fl oz", "6.76 fl oz"),
            "scent": ("unscented", "lavender", "cucumber", "rose", "green tea"),
        },
        price=(9, 80),
        uses=("morning and night routines", "dry winter skin", "sunny days outdoors", "skin that reacts easily"),
        tails=("absorbs quickly without residue", "made in a certified facility", "pump bottle for clean use"),
    ),
    CategoryWords(
        name="furniture",
        path=("Home & Kitchen", "Furniture"),
        types=("office chair", "bookshelf", "coffee table", "nightstand", "bar stool", "tv stand"),
        brands=("Oakhaven", "Linden Loft", "Bramblewood", "Nordic Nest"),
        adjectives=("modern", "rustic", "mid century", "compact"),
        attributes=(
            "easy assembly",
            "solid wood",
            "space saving",
            "storage space",
            "height adjustable",
            "metal frame",
            "living room",
            "heavy duty",
        ),
        options={
            "color": ("black", "walnut", "white", "natural oak", "grey", "espresso"),
            "size": ("small", "medium", "large", "2 pack"),
        },
        price=(40, 400),
        uses=("small apartments", "a home office", "the living room", "a guest bedroom"),
        tails=("ships flat in one box", "all tools included", "wipes clean with a damp cloth"),
    ),
    CategoryWords(
        name="haircare",
        path=("Beauty & Personal Care", "Hair Care"),
        types=("shampoo", "conditioner", "hair oil", "dry shampoo", "hair mask"),
        brands=("Silkroot", "Maple & Mint", "Tressa", "Boldcurl"),
        adjectives=("nourishing", "clarifying", "volumizing", "repairing"),
        attributes=(
            "sulfate free",
            "paraben free",
            "natural ingredients",
            "dry hair",
            "color treated",
            "cruelty free",
            "curly hair",
            "vegan formula",
        ),
        options={
            "size": ("8 fl oz", "12 fl oz", "16.9 fl oz", "33.8 fl oz"),
            "scent": ("coconut", "argan", "citrus", "unscented", "tea tree"),
        },
        price=(7, 48),
        uses=("daily washing", "frizz on humid days", "hair that needs a rest from heat styling", "the gym bag"),
        tails=("a little goes a long way", "salon tested", "recyclable bottle"),
    ),
    CategoryWords(
        name="snacks",
        path=("Grocery & Gourmet Food", "Snacks"),
        types=("protein bars", "trail mix", "beef jerky", "rice crackers", "dried mango"),
        brands=("Crunchfield", "Trailbite", "Sunny Acre", "Hearthmade"),
        adjectives=("crunchy", "chewy", "savory", "sweet"),
        attributes=(
            "gluten free",
            "high protein",
            "low sugar",
            "non gmo",
            "keto friendly",
            "individually wrapped",
            "plant based",
            "no artificial flavors",
        ),
        options={
            "flavor": ("chocolate", "peanut butter", "sea salt", "honey", "teriyaki", "original", "spicy"),
            "size": ("12 count", "24 count", "6 ounce (pack of 4)", "1 pound"),
        },
        price=(6, 50),
        uses=("lunch boxes", "hikes and road trips", "the desk drawer", "after a workout"),
        tails=("packed in a nut free facility", "made with simple ingredients", "great for sharing"),
    ),
    CategoryWords(
        name="phone",
        path=("Electronics", "Cell Phone Accessories"),
        types=("phone case", "screen protector", "wireless charger", "usb c cable", "car phone mount"),
        brands=("Gripcore", "Voltbridge", "Clearshield", "Roamdock"),
        adjectives=("slim", "rugged", "clear", "magnetic"),
        attributes=(
            "shockproof",
            "fast charging",
            "tempered glass",
            "easy install",
            "wireless charging",
            "heavy duty",
            "scratch resistant",
            "anti fingerprint",
        ),
        options={
            "color": ("black", "clear", "blue", "pink", "purple", "dark green"),
            "size": ("6.1 inch", "6.3 inch", "6.7 inch", "6.9 inch"),
        },
        price=(8, 70),
        uses=("everyday carry", "the car and the desk", "trips away from home", "a busy family"),
        tails=("tested with drops from six feet", "cutouts line up with every port", "lifetime replacement"),
        type_options={
            "usb c cable": {"size": ("3 ft", "6 ft", "10 ft")},
            "wireless charger": {"size": ("single pad", "2 in 1 stand", "3 in 1 stand")},
            "car phone mount": {"size": ("dashboard", "air vent", "windshield")},
        },
    ),
    CategoryWords(
        name="bedding",
        path=("Home & Kitchen", "Bedding"),
        types=("sheet set", "duvet cover", "bed pillow", "weighted blanket", "mattress topper"),
        brands=("Cloudmere", "Restwell Co", "Linenfold", "Duskhaven"),
        adjectives=("luxury", "cozy", "cooling", "plush"),
        attributes=(
            "machine wash",
            "hypoallergenic",
            "deep pocket",
            "breathable",
            "long lasting",
            "wrinkle free",
            "organic cotton",
            "all season",
        ),
        options={
            "size": ("twin", "full", "queen", "king", "california king"),
            "color": ("white", "ivory", "light grey", "dusty blue", "sage", "charcoal"),
        },
        price=(25, 220),
        uses=("hot sleepers", "a guest room", "cold winter nights", "kids' rooms"),
        tails=("softer after every wash", "stitched with double seams", "comes in a reusable zip bag"),
    ),
    CategoryWords(
        name="candles",
        path=("Home & Kitchen", "Home Fragrance"),
        types=("scented candle", "reed diffuser", "essential oil set", "wax melts"),
        brands=("Emberly", "Wickwood", "Fogline", "Glowmoss"),
        adjectives=("hand poured", "calming", "fresh", "warm"),
        attributes=(
            "long lasting",
            "soy wax",
            "natural ingredients",
            "non toxic",
            "lead free",
            "gift set",
            "cotton wick",
            "phthalate free",
        ),
        options={
            "scent": ("lavender", "vanilla", "eucalyptus", "sandalwood", "lemon", "sea breeze"),
            "size": ("8 ounce", "14 ounce", "3 pack", "6 pack"),
        },
        price=(9, 60),
        uses=("a quiet evening", "the bathroom", "gifting", "a reading nook"),
        tails=("burns clean and even", "poured by hand in small lots", "reusable glass jar"),
    ),
    CategoryWords(
        name="kitchen",
        path=("Home & Kitchen", "Kitchen & Dining"),
        types=("water bottle", "travel mug", "chef knife", "cutting board", "frying pan"),
        brands=("Forgeline", "Hearthstone", "Brightcup", "Saltmarsh"),
        adjectives=("everyday", "professional", "insulated", "classic"),
        attributes=(
            "bpa free",
            "dishwasher safe",
            "stainless steel",
            "leak proof",
            "non stick",
            "easy clean",
            "double wall",
            "ergonomic handle",
        ),
        options={
            "color": ("black", "white", "teal", "coral", "matte grey", "natural"),
            "size": ("12 ounce", "20 ounce", "32 ounce", "8 inch", "10 inch"),
        },
        price=(10, 120),
        uses=("busy weeknight cooking", "the commute", "camping trips", "a first apartment"),
        tails=("backed by a lifetime guarantee", "balanced for long prep sessions", "fits most cup holders"),
    ),
)

# Words the type reward does not count as product nouns (see reward.title_nouns): the
# generator's title adjectives, plus every product's own attribute words.
ADJECTIVES: frozenset[str] = frozenset(word for c in CATEGORIES for adj in c.adjectives for word in adj.split())

# How an instruction names an option value, by group ("queen size", "size 9", "black color").
OPTION_PHRASES: dict[str, str] = {
    "color": "{value} color",
    "flavor": "{value} flavor",
    "scent": "{value} scent",
    "style": "{value} style",
}
