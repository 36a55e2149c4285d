; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; kitchen_b-place-peppershaker: put a peppershaker in drawer (pick_and_place_simple)
(define (problem kitchen_b_place_peppershaker)
  (:domain alfred)
  (:objects
    agent1 - agent
    loc_bar_0 - location ; the middle of the room
    loc_bar_1 - location ; at cabinet 1
    loc_bar_2 - location ; at cabinet 2
    loc_bar_3 - location ; at cabinet 3
    loc_bar_4 - location ; at cabinet 4
    loc_bar_5 - location ; at cabinet 5
    loc_bar_6 - location ; at cabinet 6
    loc_bar_7 - location ; at cabinet 7
    loc_bar_8 - location ; at cabinet 8
    loc_bar_9 - location ; at coffeemachine 1
    loc_bar_10 - location ; at countertop 1
    loc_bar_11 - location ; at drawer 1
    loc_bar_12 - location ; at drawer 2
    loc_bar_13 - location ; at drawer 3
    loc_bar_14 - location ; at drawer 4
    loc_bar_15 - location ; at fridge 1
    loc_bar_16 - location ; at garbagecan 1
    loc_bar_17 - location ; at microwave 1
    loc_bar_18 - location ; at shelf 1
    loc_bar_19 - location ; at shelf 2
    loc_bar_20 - location ; at sinkbasin 1
    loc_bar_21 - location ; at stoveburner 1
    loc_bar_22 - location ; at stoveburner 2
    Cabinet_bar_07 - receptacle ; cabinet 1
    Cabinet_bar_06 - receptacle ; cabinet 2
    Cabinet_bar_05 - receptacle ; cabinet 3
    Cabinet_bar_04 - receptacle ; cabinet 4
    Cabinet_bar_03 - receptacle ; cabinet 5
    Cabinet_bar_02 - receptacle ; cabinet 6
    Cabinet_bar_01 - receptacle ; cabinet 7
    Cabinet_bar_00 - receptacle ; cabinet 8
    CoffeeMachine_bar_00 - receptacle ; coffeemachine 1
    CounterTop_bar_00 - receptacle ; countertop 1
    Drawer_bar_03 - receptacle ; drawer 1
    Drawer_bar_02 - receptacle ; drawer 2
    Drawer_bar_01 - receptacle ; drawer 3
    Drawer_bar_00 - receptacle ; drawer 4
    Fridge_bar_00 - receptacle ; fridge 1
    GarbageCan_bar_00 - receptacle ; garbagecan 1
    Microwave_bar_00 - receptacle ; microwave 1
    Shelf_bar_01 - receptacle ; shelf 1
    Shelf_bar_00 - receptacle ; shelf 2
    Sink_bar_00_bar_SinkBasin - receptacle ; sinkbasin 1
    StoveBurner_bar_01 - receptacle ; stoveburner 1
    StoveBurner_bar_00 - receptacle ; stoveburner 2
    Bowl_bar_00 - object ; bowl 1
    PepperShaker_bar_00 - object ; peppershaker 1
    Mug_bar_00 - object ; mug 1
    Apple_bar_00 - object ; apple 1
    SaltShaker_bar_00 - object ; saltshaker 1
    Spoon_bar_00 - object ; spoon 1
    Knife_bar_00 - object ; knife 1
    Egg_bar_00 - object ; egg 1
    SoapBottle_bar_00 - object ; soapbottle 1
    Pan_bar_00 - object ; pan 1
    CabinetType - rtype
    CoffeeMachineType - rtype
    CounterTopType - rtype
    DrawerType - rtype
    FridgeType - rtype
    GarbageCanType - rtype
    MicrowaveType - rtype
    ShelfType - rtype
    SinkBasinType - rtype
    StoveBurnerType - rtype
    AppleType - otype
    BowlType - otype
    ButterKnifeType - otype
    EggType - otype
    KnifeType - otype
    MugType - otype
    PanType - otype
    PepperShakerType - otype
    SaltShakerType - otype
    SoapBottleType - otype
    SpoonType - otype
  )
  (:init
    (atLocation agent1 loc_bar_0)
    (receptacleAtLocation Cabinet_bar_07 loc_bar_1)
    (receptacleType Cabinet_bar_07 CabinetType)
    (openable Cabinet_bar_07)
    (receptacleAtLocation Cabinet_bar_06 loc_bar_2)
    (receptacleType Cabinet_bar_06 CabinetType)
    (openable Cabinet_bar_06)
    (receptacleAtLocation Cabinet_bar_05 loc_bar_3)
    (receptacleType Cabinet_bar_05 CabinetType)
    (openable Cabinet_bar_05)
    (receptacleAtLocation Cabinet_bar_04 loc_bar_4)
    (receptacleType Cabinet_bar_04 CabinetType)
    (openable Cabinet_bar_04)
    (receptacleAtLocation Cabinet_bar_03 loc_bar_5)
    (receptacleType Cabinet_bar_03 CabinetType)
    (openable Cabinet_bar_03)
    (receptacleAtLocation Cabinet_bar_02 loc_bar_6)
    (receptacleType Cabinet_bar_02 CabinetType)
    (openable Cabinet_bar_02)
    (receptacleAtLocation Cabinet_bar_01 loc_bar_7)
    (receptacleType Cabinet_bar_01 CabinetType)
    (openable Cabinet_bar_01)
    (receptacleAtLocation Cabinet_bar_00 loc_bar_8)
    (receptacleType Cabinet_bar_00 CabinetType)
    (openable Cabinet_bar_00)
    (receptacleAtLocation CoffeeMachine_bar_00 loc_bar_9)
    (receptacleType CoffeeMachine_bar_00 CoffeeMachineType)
    (receptacleAtLocation CounterTop_bar_00 loc_bar_10)
    (receptacleType CounterTop_bar_00 CounterTopType)
    (receptacleAtLocation Drawer_bar_03 loc_bar_11)
    (receptacleType Drawer_bar_03 DrawerType)
    (openable Drawer_bar_03)
    (receptacleAtLocation Drawer_bar_02 loc_bar_12)
    (receptacleType Drawer_bar_02 DrawerType)
    (openable Drawer_bar_02)
    (receptacleAtLocation Drawer_bar_01 loc_bar_13)
    (receptacleType Drawer_bar_01 DrawerType)
    (openable Drawer_bar_01)
    (receptacleAtLocation Drawer_bar_00 loc_bar_14)
    (receptacleType Drawer_bar_00 DrawerType)
    (openable Drawer_bar_00)
    (receptacleAtLocation Fridge_bar_00 loc_bar_15)
    (receptacleType Fridge_bar_00 FridgeType)
    (openable Fridge_bar_00)
    (receptacleAtLocation GarbageCan_bar_00 loc_bar_16)
    (receptacleType GarbageCan_bar_00 GarbageCanType)
    (receptacleAtLocation Microwave_bar_00 loc_bar_17)
    (receptacleType Microwave_bar_00 MicrowaveType)
    (openable Microwave_bar_00)
    (receptacleAtLocation Shelf_bar_01 loc_bar_18)
    (receptacleType Shelf_bar_01 ShelfType)
    (receptacleAtLocation Shelf_bar_00 loc_bar_19)
    (receptacleType Shelf_bar_00 ShelfType)
    (receptacleAtLocation Sink_bar_00_bar_SinkBasin loc_bar_20)
    (receptacleType Sink_bar_00_bar_SinkBasin SinkBasinType)
    (receptacleAtLocation StoveBurner_bar_01 loc_bar_21)
    (receptacleType StoveBurner_bar_01 StoveBurnerType)
    (receptacleAtLocation StoveBurner_bar_00 loc_bar_22)
    (receptacleType StoveBurner_bar_00 StoveBurnerType)
    (objectType Bowl_bar_00 BowlType)
    (inReceptacle Bowl_bar_00 Cabinet_bar_04)
    (objectAtLocation Bowl_bar_00 loc_bar_4)
    (pickupable Bowl_bar_00)
    (cleanable Bowl_bar_00)
    (coolable Bowl_bar_00)
    (objectType PepperShaker_bar_00 PepperShakerType)
    (inReceptacle PepperShaker_bar_00 Cabinet_bar_02)
    (objectAtLocation PepperShaker_bar_00 loc_bar_6)
    (pickupable PepperShaker_bar_00)
    (objectType Mug_bar_00 MugType)
    (inReceptacle Mug_bar_00 CoffeeMachine_bar_00)
    (objectAtLocation Mug_bar_00 loc_bar_9)
    (pickupable Mug_bar_00)
    (cleanable Mug_bar_00)
    (heatable Mug_bar_00)
    (coolable Mug_bar_00)
    (objectType Apple_bar_00 AppleType)
    (inReceptacle Apple_bar_00 CounterTop_bar_00)
    (objectAtLocation Apple_bar_00 loc_bar_10)
    (pickupable Apple_bar_00)
    (cleanable Apple_bar_00)
    (heatable Apple_bar_00)
    (coolable Apple_bar_00)
    (objectType SaltShaker_bar_00 SaltShakerType)
    (inReceptacle SaltShaker_bar_00 CounterTop_bar_00)
    (objectAtLocation SaltShaker_bar_00 loc_bar_10)
    (pickupable SaltShaker_bar_00)
    (objectType Spoon_bar_00 SpoonType)
    (inReceptacle Spoon_bar_00 CounterTop_bar_00)
    (objectAtLocation Spoon_bar_00 loc_bar_10)
    (pickupable Spoon_bar_00)
    (cleanable Spoon_bar_00)
    (objectType Knife_bar_00 KnifeType)
    (inReceptacle Knife_bar_00 Drawer_bar_01)
    (objectAtLocation Knife_bar_00 loc_bar_13)
    (pickupable Knife_bar_00)
    (cleanable Knife_bar_00)
    (objectType Egg_bar_00 EggType)
    (inReceptacle Egg_bar_00 Fridge_bar_00)
    (objectAtLocation Egg_bar_00 loc_bar_15)
    (pickupable Egg_bar_00)
    (cleanable Egg_bar_00)
    (heatable Egg_bar_00)
    (coolable Egg_bar_00)
    (objectType SoapBottle_bar_00 SoapBottleType)
    (inReceptacle SoapBottle_bar_00 Shelf_bar_01)
    (objectAtLocation SoapBottle_bar_00 loc_bar_18)
    (pickupable SoapBottle_bar_00)
    (objectType Pan_bar_00 PanType)
    (inReceptacle Pan_bar_00 StoveBurner_bar_00)
    (objectAtLocation Pan_bar_00 loc_bar_22)
    (pickupable Pan_bar_00)
    (cleanable Pan_bar_00)
    (coolable Pan_bar_00)
    (canContain CabinetType AppleType)
    (canContain CabinetType BowlType)
    (canContain CabinetType EggType)
    (canContain CabinetType KnifeType)
    (canContain CabinetType MugType)
    (canContain CabinetType PanType)
    (canContain CabinetType PepperShakerType)
    (canContain CabinetType SaltShakerType)
    (canContain CabinetType SoapBottleType)
    (canContain CabinetType SpoonType)
    (canContain CoffeeMachineType MugType)
    (canContain CounterTopType AppleType)
    (canContain CounterTopType BowlType)
    (canContain CounterTopType EggType)
    (canContain CounterTopType KnifeType)
    (canContain CounterTopType MugType)
    (canContain CounterTopType PanType)
    (canContain CounterTopType PepperShakerType)
    (canContain CounterTopType SaltShakerType)
    (canContain CounterTopType SoapBottleType)
    (canContain CounterTopType SpoonType)
    (canContain DrawerType KnifeType)
    (canContain DrawerType PepperShakerType)
    (canContain DrawerType SaltShakerType)
    (canContain DrawerType SoapBottleType)
    (canContain DrawerType SpoonType)
    (canContain FridgeType AppleType)
    (canContain FridgeType BowlType)
    (canContain FridgeType EggType)
    (canContain FridgeType MugType)
    (canContain FridgeType PanType)
    (canContain GarbageCanType AppleType)
    (canContain GarbageCanType BowlType)
    (canContain GarbageCanType EggType)
    (canContain GarbageCanType KnifeType)
    (canContain GarbageCanType MugType)
    (canContain GarbageCanType PepperShakerType)
    (canContain GarbageCanType SaltShakerType)
    (canContain GarbageCanType SoapBottleType)
    (canContain GarbageCanType SpoonType)
    (canContain MicrowaveType AppleType)
    (canContain MicrowaveType BowlType)
    (canContain MicrowaveType EggType)
    (canContain MicrowaveType MugType)
    (canContain ShelfType AppleType)
    (canContain ShelfType BowlType)
    (canContain ShelfType EggType)
    (canContain ShelfType KnifeType)
    (canContain ShelfType MugType)
    (canContain ShelfType PanType)
    (canContain ShelfType PepperShakerType)
    (canContain ShelfType SaltShakerType)
    (canContain ShelfType SoapBottleType)
    (canContain ShelfType SpoonType)
    (canContain SinkBasinType AppleType)
    (canContain SinkBasinType BowlType)
    (canContain SinkBasinType EggType)
    (canContain SinkBasinType KnifeType)
    (canContain SinkBasinType MugType)
    (canContain SinkBasinType PanType)
    (canContain SinkBasinType SpoonType)
    (canContain StoveBurnerType PanType)
  )
  (:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r DrawerType) (objectType ?o PepperShakerType) (inReceptacle ?o ?r))))
)
