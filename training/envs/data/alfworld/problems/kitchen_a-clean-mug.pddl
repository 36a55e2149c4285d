; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; kitchen_a-clean-mug: put a clean mug in coffeemachine (pick_clean_then_place_in_recep)
(define (problem kitchen_a_clean_mug)
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
    loc_bar_7 - location ; at coffeemachine 1
    loc_bar_8 - location ; at countertop 1
    loc_bar_9 - location ; at countertop 2
    loc_bar_10 - location ; at diningtable 1
    loc_bar_11 - location ; at drawer 1
    loc_bar_12 - location ; at drawer 2
    loc_bar_13 - location ; at drawer 3
    loc_bar_14 - location ; at fridge 1
    loc_bar_15 - location ; at garbagecan 1
    loc_bar_16 - location ; at microwave 1
    loc_bar_17 - location ; at sinkbasin 1
    loc_bar_18 - location ; at stoveburner 1
    loc_bar_19 - location ; at stoveburner 2
    loc_bar_20 - location ; at stoveburner 3
    loc_bar_21 - location ; at stoveburner 4
    loc_bar_22 - location ; at toaster 1
    Cabinet_bar_05 - receptacle ; cabinet 1
    Cabinet_bar_04 - receptacle ; cabinet 2
    Cabinet_bar_03 - receptacle ; cabinet 3
    Cabinet_bar_02 - receptacle ; cabinet 4
    Cabinet_bar_01 - receptacle ; cabinet 5
    Cabinet_bar_00 - receptacle ; cabinet 6
    CoffeeMachine_bar_00 - receptacle ; coffeemachine 1
    CounterTop_bar_01 - receptacle ; countertop 1
    CounterTop_bar_00 - receptacle ; countertop 2
    DiningTable_bar_00 - receptacle ; diningtable 1
    Drawer_bar_02 - receptacle ; drawer 1
    Drawer_bar_01 - receptacle ; drawer 2
    Drawer_bar_00 - receptacle ; drawer 3
    Fridge_bar_00 - receptacle ; fridge 1
    GarbageCan_bar_00 - receptacle ; garbagecan 1
    Microwave_bar_00 - receptacle ; microwave 1
    Sink_bar_00_bar_SinkBasin - receptacle ; sinkbasin 1
    StoveBurner_bar_03 - receptacle ; stoveburner 1
    StoveBurner_bar_02 - receptacle ; stoveburner 2
    StoveBurner_bar_01 - receptacle ; stoveburner 3
    StoveBurner_bar_00 - receptacle ; stoveburner 4
    Toaster_bar_00 - receptacle ; toaster 1
    Bowl_bar_00 - object ; bowl 1
    Mug_bar_00 - object ; mug 1
    SaltShaker_bar_00 - object ; saltshaker 1
    Apple_bar_00 - object ; apple 1
    ButterKnife_bar_00 - object ; butterknife 1
    PepperShaker_bar_00 - object ; peppershaker 1
    Bread_bar_00 - object ; bread 1
    Spatula_bar_00 - object ; spatula 1
    Cup_bar_00 - object ; cup 1
    Fork_bar_00 - object ; fork 1
    Plate_bar_00 - object ; plate 1
    Spoon_bar_00 - object ; spoon 1
    Egg_bar_00 - object ; egg 1
    Lettuce_bar_00 - object ; lettuce 1
    DishSponge_bar_00 - object ; dishsponge 1
    Pan_bar_00 - object ; pan 1
    CabinetType - rtype
    CoffeeMachineType - rtype
    CounterTopType - rtype
    DiningTableType - rtype
    DrawerType - rtype
    FridgeType - rtype
    GarbageCanType - rtype
    MicrowaveType - rtype
    SinkBasinType - rtype
    StoveBurnerType - rtype
    ToasterType - rtype
    AppleType - otype
    BowlType - otype
    BreadType - otype
    ButterKnifeType - otype
    CupType - otype
    DishSpongeType - otype
    EggType - otype
    ForkType - otype
    KnifeType - otype
    LettuceType - otype
    MugType - otype
    PanType - otype
    PepperShakerType - otype
    PlateType - otype
    SaltShakerType - otype
    SpatulaType - otype
    SpoonType - otype
  )
  (:init
    (atLocation agent1 loc_bar_0)
    (receptacleAtLocation Cabinet_bar_05 loc_bar_1)
    (receptacleType Cabinet_bar_05 CabinetType)
    (openable Cabinet_bar_05)
    (receptacleAtLocation Cabinet_bar_04 loc_bar_2)
    (receptacleType Cabinet_bar_04 CabinetType)
    (openable Cabinet_bar_04)
    (receptacleAtLocation Cabinet_bar_03 loc_bar_3)
    (receptacleType Cabinet_bar_03 CabinetType)
    (openable Cabinet_bar_03)
    (receptacleAtLocation Cabinet_bar_02 loc_bar_4)
    (receptacleType Cabinet_bar_02 CabinetType)
    (openable Cabinet_bar_02)
    (receptacleAtLocation Cabinet_bar_01 loc_bar_5)
    (receptacleType Cabinet_bar_01 CabinetType)
    (openable Cabinet_bar_01)
    (receptacleAtLocation Cabinet_bar_00 loc_bar_6)
    (receptacleType Cabinet_bar_00 CabinetType)
    (openable Cabinet_bar_00)
    (receptacleAtLocation CoffeeMachine_bar_00 loc_bar_7)
    (receptacleType CoffeeMachine_bar_00 CoffeeMachineType)
    (receptacleAtLocation CounterTop_bar_01 loc_bar_8)
    (receptacleType CounterTop_bar_01 CounterTopType)
    (receptacleAtLocation CounterTop_bar_00 loc_bar_9)
    (receptacleType CounterTop_bar_00 CounterTopType)
    (receptacleAtLocation DiningTable_bar_00 loc_bar_10)
    (receptacleType DiningTable_bar_00 DiningTableType)
    (receptacleAtLocation Drawer_bar_02 loc_bar_11)
    (receptacleType Drawer_bar_02 DrawerType)
    (openable Drawer_bar_02)
    (receptacleAtLocation Drawer_bar_01 loc_bar_12)
    (receptacleType Drawer_bar_01 DrawerType)
    (openable Drawer_bar_01)
    (receptacleAtLocation Drawer_bar_00 loc_bar_13)
    (receptacleType Drawer_bar_00 DrawerType)
    (openable Drawer_bar_00)
    (receptacleAtLocation Fridge_bar_00 loc_bar_14)
    (receptacleType Fridge_bar_00 FridgeType)
    (openable Fridge_bar_00)
    (receptacleAtLocation GarbageCan_bar_00 loc_bar_15)
    (receptacleType GarbageCan_bar_00 GarbageCanType)
    (receptacleAtLocation Microwave_bar_00 loc_bar_16)
    (receptacleType Microwave_bar_00 MicrowaveType)
    (openable Microwave_bar_00)
    (receptacleAtLocation Sink_bar_00_bar_SinkBasin loc_bar_17)
    (receptacleType Sink_bar_00_bar_SinkBasin SinkBasinType)
    (receptacleAtLocation StoveBurner_bar_03 loc_bar_18)
    (receptacleType StoveBurner_bar_03 StoveBurnerType)
    (receptacleAtLocation StoveBurner_bar_02 loc_bar_19)
    (receptacleType StoveBurner_bar_02 StoveBurnerType)
    (receptacleAtLocation StoveBurner_bar_01 loc_bar_20)
    (receptacleType StoveBurner_bar_01 StoveBurnerType)
    (receptacleAtLocation StoveBurner_bar_00 loc_bar_21)
    (receptacleType StoveBurner_bar_00 StoveBurnerType)
    (receptacleAtLocation Toaster_bar_00 loc_bar_22)
    (receptacleType Toaster_bar_00 ToasterType)
    (objectType Bowl_bar_00 BowlType)
    (inReceptacle Bowl_bar_00 Cabinet_bar_04)
    (objectAtLocation Bowl_bar_00 loc_bar_2)
    (pickupable Bowl_bar_00)
    (cleanable Bowl_bar_00)
    (coolable Bowl_bar_00)
    (objectType Mug_bar_00 MugType)
    (inReceptacle Mug_bar_00 Cabinet_bar_02)
    (objectAtLocation Mug_bar_00 loc_bar_4)
    (pickupable Mug_bar_00)
    (cleanable Mug_bar_00)
    (heatable Mug_bar_00)
    (coolable Mug_bar_00)
    (objectType SaltShaker_bar_00 SaltShakerType)
    (inReceptacle SaltShaker_bar_00 Cabinet_bar_01)
    (objectAtLocation SaltShaker_bar_00 loc_bar_5)
    (pickupable SaltShaker_bar_00)
    (objectType Apple_bar_00 AppleType)
    (inReceptacle Apple_bar_00 CounterTop_bar_01)
    (objectAtLocation Apple_bar_00 loc_bar_8)
    (pickupable Apple_bar_00)
    (cleanable Apple_bar_00)
    (heatable Apple_bar_00)
    (coolable Apple_bar_00)
    (objectType ButterKnife_bar_00 ButterKnifeType)
    (inReceptacle ButterKnife_bar_00 CounterTop_bar_01)
    (objectAtLocation ButterKnife_bar_00 loc_bar_8)
    (pickupable ButterKnife_bar_00)
    (cleanable ButterKnife_bar_00)
    (objectType PepperShaker_bar_00 PepperShakerType)
    (inReceptacle PepperShaker_bar_00 CounterTop_bar_01)
    (objectAtLocation PepperShaker_bar_00 loc_bar_8)
    (pickupable PepperShaker_bar_00)
    (objectType Bread_bar_00 BreadType)
    (inReceptacle Bread_bar_00 CounterTop_bar_00)
    (objectAtLocation Bread_bar_00 loc_bar_9)
    (pickupable Bread_bar_00)
    (heatable Bread_bar_00)
    (coolable Bread_bar_00)
    (objectType Spatula_bar_00 SpatulaType)
    (inReceptacle Spatula_bar_00 CounterTop_bar_00)
    (objectAtLocation Spatula_bar_00 loc_bar_9)
    (pickupable Spatula_bar_00)
    (cleanable Spatula_bar_00)
    (objectType Cup_bar_00 CupType)
    (inReceptacle Cup_bar_00 DiningTable_bar_00)
    (objectAtLocation Cup_bar_00 loc_bar_10)
    (pickupable Cup_bar_00)
    (cleanable Cup_bar_00)
    (heatable Cup_bar_00)
    (coolable Cup_bar_00)
    (objectType Fork_bar_00 ForkType)
    (inReceptacle Fork_bar_00 DiningTable_bar_00)
    (objectAtLocation Fork_bar_00 loc_bar_10)
    (pickupable Fork_bar_00)
    (cleanable Fork_bar_00)
    (objectType Plate_bar_00 PlateType)
    (inReceptacle Plate_bar_00 DiningTable_bar_00)
    (objectAtLocation Plate_bar_00 loc_bar_10)
    (pickupable Plate_bar_00)
    (cleanable Plate_bar_00)
    (heatable Plate_bar_00)
    (coolable Plate_bar_00)
    (objectType Spoon_bar_00 SpoonType)
    (inReceptacle Spoon_bar_00 Drawer_bar_02)
    (objectAtLocation Spoon_bar_00 loc_bar_11)
    (pickupable Spoon_bar_00)
    (cleanable Spoon_bar_00)
    (objectType Egg_bar_00 EggType)
    (inReceptacle Egg_bar_00 Fridge_bar_00)
    (objectAtLocation Egg_bar_00 loc_bar_14)
    (pickupable Egg_bar_00)
    (cleanable Egg_bar_00)
    (heatable Egg_bar_00)
    (coolable Egg_bar_00)
    (objectType Lettuce_bar_00 LettuceType)
    (inReceptacle Lettuce_bar_00 Fridge_bar_00)
    (objectAtLocation Lettuce_bar_00 loc_bar_14)
    (pickupable Lettuce_bar_00)
    (cleanable Lettuce_bar_00)
    (coolable Lettuce_bar_00)
    (objectType DishSponge_bar_00 DishSpongeType)
    (inReceptacle DishSponge_bar_00 Sink_bar_00_bar_SinkBasin)
    (objectAtLocation DishSponge_bar_00 loc_bar_17)
    (pickupable DishSponge_bar_00)
    (cleanable DishSponge_bar_00)
    (objectType Pan_bar_00 PanType)
    (inReceptacle Pan_bar_00 StoveBurner_bar_02)
    (objectAtLocation Pan_bar_00 loc_bar_19)
    (pickupable Pan_bar_00)
    (cleanable Pan_bar_00)
    (coolable Pan_bar_00)
    (canContain CabinetType AppleType)
    (canContain CabinetType BowlType)
    (canContain CabinetType BreadType)
    (canContain CabinetType ButterKnifeType)
    (canContain CabinetType CupType)
    (canContain CabinetType DishSpongeType)
    (canContain CabinetType EggType)
    (canContain CabinetType ForkType)
    (canContain CabinetType LettuceType)
    (canContain CabinetType MugType)
    (canContain CabinetType PanType)
    (canContain CabinetType PepperShakerType)
    (canContain CabinetType PlateType)
    (canContain CabinetType SaltShakerType)
    (canContain CabinetType SpatulaType)
    (canContain CabinetType SpoonType)
    (canContain CoffeeMachineType CupType)
    (canContain CoffeeMachineType MugType)
    (canContain CounterTopType AppleType)
    (canContain CounterTopType BowlType)
    (canContain CounterTopType BreadType)
    (canContain CounterTopType ButterKnifeType)
    (canContain CounterTopType CupType)
    (canContain CounterTopType DishSpongeType)
    (canContain CounterTopType EggType)
    (canContain CounterTopType ForkType)
    (canContain CounterTopType LettuceType)
    (canContain CounterTopType MugType)
    (canContain CounterTopType PanType)
    (canContain CounterTopType PepperShakerType)
    (canContain CounterTopType PlateType)
    (canContain CounterTopType SaltShakerType)
    (canContain CounterTopType SpatulaType)
    (canContain CounterTopType SpoonType)
    (canContain DiningTableType AppleType)
    (canContain DiningTableType BowlType)
    (canContain DiningTableType BreadType)
    (canContain DiningTableType ButterKnifeType)
    (canContain DiningTableType CupType)
    (canContain DiningTableType DishSpongeType)
    (canContain DiningTableType EggType)
    (canContain DiningTableType ForkType)
    (canContain DiningTableType LettuceType)
    (canContain DiningTableType MugType)
    (canContain DiningTableType PanType)
    (canContain DiningTableType PepperShakerType)
    (canContain DiningTableType PlateType)
    (canContain DiningTableType SaltShakerType)
    (canContain DiningTableType SpatulaType)
    (canContain DiningTableType SpoonType)
    (canContain DrawerType ButterKnifeType)
    (canContain DrawerType DishSpongeType)
    (canContain DrawerType ForkType)
    (canContain DrawerType PepperShakerType)
    (canContain DrawerType SaltShakerType)
    (canContain DrawerType SpatulaType)
    (canContain DrawerType SpoonType)
    (canContain FridgeType AppleType)
    (canContain FridgeType BowlType)
    (canContain FridgeType BreadType)
    (canContain FridgeType CupType)
    (canContain FridgeType EggType)
    (canContain FridgeType LettuceType)
    (canContain FridgeType MugType)
    (canContain FridgeType PanType)
    (canContain FridgeType PlateType)
    (canContain GarbageCanType AppleType)
    (canContain GarbageCanType BowlType)
    (canContain GarbageCanType BreadType)
    (canContain GarbageCanType ButterKnifeType)
    (canContain GarbageCanType CupType)
    (canContain GarbageCanType DishSpongeType)
    (canContain GarbageCanType EggType)
    (canContain GarbageCanType ForkType)
    (canContain GarbageCanType LettuceType)
    (canContain GarbageCanType MugType)
    (canContain GarbageCanType PepperShakerType)
    (canContain GarbageCanType PlateType)
    (canContain GarbageCanType SaltShakerType)
    (canContain GarbageCanType SpatulaType)
    (canContain GarbageCanType SpoonType)
    (canContain MicrowaveType AppleType)
    (canContain MicrowaveType BowlType)
    (canContain MicrowaveType BreadType)
    (canContain MicrowaveType CupType)
    (canContain MicrowaveType EggType)
    (canContain MicrowaveType MugType)
    (canContain MicrowaveType PlateType)
    (canContain SinkBasinType AppleType)
    (canContain SinkBasinType BowlType)
    (canContain SinkBasinType ButterKnifeType)
    (canContain SinkBasinType CupType)
    (canContain SinkBasinType DishSpongeType)
    (canContain SinkBasinType EggType)
    (canContain SinkBasinType ForkType)
    (canContain SinkBasinType LettuceType)
    (canContain SinkBasinType MugType)
    (canContain SinkBasinType PanType)
    (canContain SinkBasinType PlateType)
    (canContain SinkBasinType SpatulaType)
    (canContain SinkBasinType SpoonType)
    (canContain StoveBurnerType PanType)
    (canContain ToasterType BreadType)
  )
  (:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r CoffeeMachineType) (objectType ?o MugType) (cleanable ?o) (isClean ?o) (inReceptacle ?o ?r))))
)
