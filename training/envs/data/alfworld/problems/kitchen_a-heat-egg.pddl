; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; kitchen_a-heat-egg: heat some egg and put it in diningtable (pick_heat_then_place_in_recep)
(define (problem kitchen_a_heat_egg)
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
    Plate_bar_00 - object ; plate 1
    Bowl_bar_00 - object ; bowl 1
    Mug_bar_00 - object ; mug 1
    Knife_bar_00 - object ; knife 1
    Tomato_bar_00 - object ; tomato 1
    Bread_bar_00 - object ; bread 1
    PepperShaker_bar_00 - object ; peppershaker 1
    Fork_bar_00 - object ; fork 1
    Spoon_bar_00 - object ; spoon 1
    ButterKnife_bar_00 - object ; butterknife 1
    Egg_bar_00 - object ; egg 1
    Potato_bar_00 - object ; potato 1
    WineBottle_bar_00 - object ; winebottle 1
    Apple_bar_00 - object ; apple 1
    Pot_bar_00 - object ; pot 1
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
    EggType - otype
    ForkType - otype
    KnifeType - otype
    MugType - otype
    PepperShakerType - otype
    PlateType - otype
    PotType - otype
    PotatoType - otype
    SpoonType - otype
    TomatoType - otype
    WineBottleType - otype
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
    (objectType Plate_bar_00 PlateType)
    (inReceptacle Plate_bar_00 Cabinet_bar_05)
    (objectAtLocation Plate_bar_00 loc_bar_1)
    (pickupable Plate_bar_00)
    (cleanable Plate_bar_00)
    (heatable Plate_bar_00)
    (coolable Plate_bar_00)
    (objectType Bowl_bar_00 BowlType)
    (inReceptacle Bowl_bar_00 Cabinet_bar_03)
    (objectAtLocation Bowl_bar_00 loc_bar_3)
    (pickupable Bowl_bar_00)
    (cleanable Bowl_bar_00)
    (coolable Bowl_bar_00)
    (objectType Mug_bar_00 MugType)
    (inReceptacle Mug_bar_00 CoffeeMachine_bar_00)
    (objectAtLocation Mug_bar_00 loc_bar_7)
    (pickupable Mug_bar_00)
    (cleanable Mug_bar_00)
    (heatable Mug_bar_00)
    (coolable Mug_bar_00)
    (objectType Knife_bar_00 KnifeType)
    (inReceptacle Knife_bar_00 CounterTop_bar_01)
    (objectAtLocation Knife_bar_00 loc_bar_8)
    (pickupable Knife_bar_00)
    (cleanable Knife_bar_00)
    (objectType Tomato_bar_00 TomatoType)
    (inReceptacle Tomato_bar_00 CounterTop_bar_01)
    (objectAtLocation Tomato_bar_00 loc_bar_8)
    (pickupable Tomato_bar_00)
    (cleanable Tomato_bar_00)
    (heatable Tomato_bar_00)
    (coolable Tomato_bar_00)
    (objectType Bread_bar_00 BreadType)
    (inReceptacle Bread_bar_00 CounterTop_bar_00)
    (objectAtLocation Bread_bar_00 loc_bar_9)
    (pickupable Bread_bar_00)
    (heatable Bread_bar_00)
    (coolable Bread_bar_00)
    (objectType PepperShaker_bar_00 PepperShakerType)
    (inReceptacle PepperShaker_bar_00 CounterTop_bar_00)
    (objectAtLocation PepperShaker_bar_00 loc_bar_9)
    (pickupable PepperShaker_bar_00)
    (objectType Fork_bar_00 ForkType)
    (inReceptacle Fork_bar_00 DiningTable_bar_00)
    (objectAtLocation Fork_bar_00 loc_bar_10)
    (pickupable Fork_bar_00)
    (cleanable Fork_bar_00)
    (objectType Spoon_bar_00 SpoonType)
    (inReceptacle Spoon_bar_00 DiningTable_bar_00)
    (objectAtLocation Spoon_bar_00 loc_bar_10)
    (pickupable Spoon_bar_00)
    (cleanable Spoon_bar_00)
    (objectType ButterKnife_bar_00 ButterKnifeType)
    (inReceptacle ButterKnife_bar_00 Drawer_bar_01)
    (objectAtLocation ButterKnife_bar_00 loc_bar_12)
    (pickupable ButterKnife_bar_00)
    (cleanable ButterKnife_bar_00)
    (objectType Egg_bar_00 EggType)
    (inReceptacle Egg_bar_00 Fridge_bar_00)
    (objectAtLocation Egg_bar_00 loc_bar_14)
    (pickupable Egg_bar_00)
    (cleanable Egg_bar_00)
    (heatable Egg_bar_00)
    (coolable Egg_bar_00)
    (objectType Potato_bar_00 PotatoType)
    (inReceptacle Potato_bar_00 Fridge_bar_00)
    (objectAtLocation Potato_bar_00 loc_bar_14)
    (pickupable Potato_bar_00)
    (cleanable Potato_bar_00)
    (heatable Potato_bar_00)
    (coolable Potato_bar_00)
    (objectType WineBottle_bar_00 WineBottleType)
    (inReceptacle WineBottle_bar_00 Fridge_bar_00)
    (objectAtLocation WineBottle_bar_00 loc_bar_14)
    (pickupable WineBottle_bar_00)
    (coolable WineBottle_bar_00)
    (objectType Apple_bar_00 AppleType)
    (inReceptacle Apple_bar_00 GarbageCan_bar_00)
    (objectAtLocation Apple_bar_00 loc_bar_15)
    (pickupable Apple_bar_00)
    (cleanable Apple_bar_00)
    (heatable Apple_bar_00)
    (coolable Apple_bar_00)
    (objectType Pot_bar_00 PotType)
    (inReceptacle Pot_bar_00 StoveBurner_bar_03)
    (objectAtLocation Pot_bar_00 loc_bar_18)
    (pickupable Pot_bar_00)
    (cleanable Pot_bar_00)
    (coolable Pot_bar_00)
    (canContain CabinetType AppleType)
    (canContain CabinetType BowlType)
    (canContain CabinetType BreadType)
    (canContain CabinetType ButterKnifeType)
    (canContain CabinetType EggType)
    (canContain CabinetType ForkType)
    (canContain CabinetType KnifeType)
    (canContain CabinetType MugType)
    (canContain CabinetType PepperShakerType)
    (canContain CabinetType PlateType)
    (canContain CabinetType PotType)
    (canContain CabinetType PotatoType)
    (canContain CabinetType SpoonType)
    (canContain CabinetType TomatoType)
    (canContain CabinetType WineBottleType)
    (canContain CoffeeMachineType MugType)
    (canContain CounterTopType AppleType)
    (canContain CounterTopType BowlType)
    (canContain CounterTopType BreadType)
    (canContain CounterTopType ButterKnifeType)
    (canContain CounterTopType EggType)
    (canContain CounterTopType ForkType)
    (canContain CounterTopType KnifeType)
    (canContain CounterTopType MugType)
    (canContain CounterTopType PepperShakerType)
    (canContain CounterTopType PlateType)
    (canContain CounterTopType PotType)
    (canContain CounterTopType PotatoType)
    (canContain CounterTopType SpoonType)
    (canContain CounterTopType TomatoType)
    (canContain CounterTopType WineBottleType)
    (canContain DiningTableType AppleType)
    (canContain DiningTableType BowlType)
    (canContain DiningTableType BreadType)
    (canContain DiningTableType ButterKnifeType)
    (canContain DiningTableType EggType)
    (canContain DiningTableType ForkType)
    (canContain DiningTableType KnifeType)
    (canContain DiningTableType MugType)
    (canContain DiningTableType PepperShakerType)
    (canContain DiningTableType PlateType)
    (canContain DiningTableType PotType)
    (canContain DiningTableType PotatoType)
    (canContain DiningTableType SpoonType)
    (canContain DiningTableType TomatoType)
    (canContain DiningTableType WineBottleType)
    (canContain DrawerType ButterKnifeType)
    (canContain DrawerType ForkType)
    (canContain DrawerType KnifeType)
    (canContain DrawerType PepperShakerType)
    (canContain DrawerType SpoonType)
    (canContain FridgeType AppleType)
    (canContain FridgeType BowlType)
    (canContain FridgeType BreadType)
    (canContain FridgeType EggType)
    (canContain FridgeType MugType)
    (canContain FridgeType PlateType)
    (canContain FridgeType PotType)
    (canContain FridgeType PotatoType)
    (canContain FridgeType TomatoType)
    (canContain FridgeType WineBottleType)
    (canContain GarbageCanType AppleType)
    (canContain GarbageCanType BowlType)
    (canContain GarbageCanType BreadType)
    (canContain GarbageCanType ButterKnifeType)
    (canContain GarbageCanType EggType)
    (canContain GarbageCanType ForkType)
    (canContain GarbageCanType KnifeType)
    (canContain GarbageCanType MugType)
    (canContain GarbageCanType PepperShakerType)
    (canContain GarbageCanType PlateType)
    (canContain GarbageCanType PotatoType)
    (canContain GarbageCanType SpoonType)
    (canContain GarbageCanType TomatoType)
    (canContain GarbageCanType WineBottleType)
    (canContain MicrowaveType AppleType)
    (canContain MicrowaveType BowlType)
    (canContain MicrowaveType BreadType)
    (canContain MicrowaveType EggType)
    (canContain MicrowaveType MugType)
    (canContain MicrowaveType PlateType)
    (canContain MicrowaveType PotatoType)
    (canContain MicrowaveType TomatoType)
    (canContain SinkBasinType AppleType)
    (canContain SinkBasinType BowlType)
    (canContain SinkBasinType ButterKnifeType)
    (canContain SinkBasinType EggType)
    (canContain SinkBasinType ForkType)
    (canContain SinkBasinType KnifeType)
    (canContain SinkBasinType MugType)
    (canContain SinkBasinType PlateType)
    (canContain SinkBasinType PotType)
    (canContain SinkBasinType PotatoType)
    (canContain SinkBasinType SpoonType)
    (canContain SinkBasinType TomatoType)
    (canContain StoveBurnerType PotType)
    (canContain ToasterType BreadType)
  )
  (:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r DiningTableType) (objectType ?o EggType) (heatable ?o) (isHot ?o) (inReceptacle ?o ?r))))
)
