; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; kitchen_b-heat-mug: put a hot mug in cabinet (pick_heat_then_place_in_recep)
(define (problem kitchen_b_heat_mug)
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
    Plate_bar_00 - object ; plate 1
    Bowl_bar_00 - object ; bowl 1
    Bread_bar_00 - object ; bread 1
    Egg_bar_00 - object ; egg 1
    Mug_bar_00 - object ; mug 1
    Fork_bar_00 - object ; fork 1
    Spatula_bar_00 - object ; spatula 1
    Potato_bar_00 - object ; potato 1
    Tomato_bar_00 - object ; tomato 1
    PepperShaker_bar_00 - object ; peppershaker 1
    Vase_bar_00 - object ; vase 1
    DishSponge_bar_00 - object ; dishsponge 1
    Kettle_bar_00 - object ; kettle 1
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
    BowlType - otype
    BreadType - otype
    ButterKnifeType - otype
    DishSpongeType - otype
    EggType - otype
    ForkType - otype
    KettleType - otype
    KnifeType - otype
    MugType - otype
    PepperShakerType - otype
    PlateType - otype
    PotatoType - otype
    SpatulaType - otype
    TomatoType - otype
    VaseType - otype
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
    (objectType Plate_bar_00 PlateType)
    (inReceptacle Plate_bar_00 Cabinet_bar_06)
    (objectAtLocation Plate_bar_00 loc_bar_2)
    (pickupable Plate_bar_00)
    (cleanable Plate_bar_00)
    (heatable Plate_bar_00)
    (coolable Plate_bar_00)
    (objectType Bowl_bar_00 BowlType)
    (inReceptacle Bowl_bar_00 Cabinet_bar_03)
    (objectAtLocation Bowl_bar_00 loc_bar_5)
    (pickupable Bowl_bar_00)
    (cleanable Bowl_bar_00)
    (coolable Bowl_bar_00)
    (objectType Bread_bar_00 BreadType)
    (inReceptacle Bread_bar_00 CounterTop_bar_00)
    (objectAtLocation Bread_bar_00 loc_bar_10)
    (pickupable Bread_bar_00)
    (heatable Bread_bar_00)
    (coolable Bread_bar_00)
    (objectType Egg_bar_00 EggType)
    (inReceptacle Egg_bar_00 CounterTop_bar_00)
    (objectAtLocation Egg_bar_00 loc_bar_10)
    (pickupable Egg_bar_00)
    (cleanable Egg_bar_00)
    (heatable Egg_bar_00)
    (coolable Egg_bar_00)
    (objectType Mug_bar_00 MugType)
    (inReceptacle Mug_bar_00 CounterTop_bar_00)
    (objectAtLocation Mug_bar_00 loc_bar_10)
    (pickupable Mug_bar_00)
    (cleanable Mug_bar_00)
    (heatable Mug_bar_00)
    (coolable Mug_bar_00)
    (objectType Fork_bar_00 ForkType)
    (inReceptacle Fork_bar_00 Drawer_bar_03)
    (objectAtLocation Fork_bar_00 loc_bar_11)
    (pickupable Fork_bar_00)
    (cleanable Fork_bar_00)
    (objectType Spatula_bar_00 SpatulaType)
    (inReceptacle Spatula_bar_00 Drawer_bar_00)
    (objectAtLocation Spatula_bar_00 loc_bar_14)
    (pickupable Spatula_bar_00)
    (cleanable Spatula_bar_00)
    (objectType Potato_bar_00 PotatoType)
    (inReceptacle Potato_bar_00 Fridge_bar_00)
    (objectAtLocation Potato_bar_00 loc_bar_15)
    (pickupable Potato_bar_00)
    (cleanable Potato_bar_00)
    (heatable Potato_bar_00)
    (coolable Potato_bar_00)
    (objectType Tomato_bar_00 TomatoType)
    (inReceptacle Tomato_bar_00 Fridge_bar_00)
    (objectAtLocation Tomato_bar_00 loc_bar_15)
    (pickupable Tomato_bar_00)
    (cleanable Tomato_bar_00)
    (heatable Tomato_bar_00)
    (coolable Tomato_bar_00)
    (objectType PepperShaker_bar_00 PepperShakerType)
    (inReceptacle PepperShaker_bar_00 Shelf_bar_00)
    (objectAtLocation PepperShaker_bar_00 loc_bar_19)
    (pickupable PepperShaker_bar_00)
    (objectType Vase_bar_00 VaseType)
    (inReceptacle Vase_bar_00 Shelf_bar_00)
    (objectAtLocation Vase_bar_00 loc_bar_19)
    (pickupable Vase_bar_00)
    (objectType DishSponge_bar_00 DishSpongeType)
    (inReceptacle DishSponge_bar_00 Sink_bar_00_bar_SinkBasin)
    (objectAtLocation DishSponge_bar_00 loc_bar_20)
    (pickupable DishSponge_bar_00)
    (cleanable DishSponge_bar_00)
    (objectType Kettle_bar_00 KettleType)
    (inReceptacle Kettle_bar_00 StoveBurner_bar_01)
    (objectAtLocation Kettle_bar_00 loc_bar_21)
    (pickupable Kettle_bar_00)
    (cleanable Kettle_bar_00)
    (canContain CabinetType BowlType)
    (canContain CabinetType BreadType)
    (canContain CabinetType DishSpongeType)
    (canContain CabinetType EggType)
    (canContain CabinetType ForkType)
    (canContain CabinetType KettleType)
    (canContain CabinetType MugType)
    (canContain CabinetType PepperShakerType)
    (canContain CabinetType PlateType)
    (canContain CabinetType PotatoType)
    (canContain CabinetType SpatulaType)
    (canContain CabinetType TomatoType)
    (canContain CabinetType VaseType)
    (canContain CoffeeMachineType MugType)
    (canContain CounterTopType BowlType)
    (canContain CounterTopType BreadType)
    (canContain CounterTopType DishSpongeType)
    (canContain CounterTopType EggType)
    (canContain CounterTopType ForkType)
    (canContain CounterTopType KettleType)
    (canContain CounterTopType MugType)
    (canContain CounterTopType PepperShakerType)
    (canContain CounterTopType PlateType)
    (canContain CounterTopType PotatoType)
    (canContain CounterTopType SpatulaType)
    (canContain CounterTopType TomatoType)
    (canContain CounterTopType VaseType)
    (canContain DrawerType DishSpongeType)
    (canContain DrawerType ForkType)
    (canContain DrawerType PepperShakerType)
    (canContain DrawerType SpatulaType)
    (canContain FridgeType BowlType)
    (canContain FridgeType BreadType)
    (canContain FridgeType EggType)
    (canContain FridgeType MugType)
    (canContain FridgeType PlateType)
    (canContain FridgeType PotatoType)
    (canContain FridgeType TomatoType)
    (canContain GarbageCanType BowlType)
    (canContain GarbageCanType BreadType)
    (canContain GarbageCanType DishSpongeType)
    (canContain GarbageCanType EggType)
    (canContain GarbageCanType ForkType)
    (canContain GarbageCanType MugType)
    (canContain GarbageCanType PepperShakerType)
    (canContain GarbageCanType PlateType)
    (canContain GarbageCanType PotatoType)
    (canContain GarbageCanType SpatulaType)
    (canContain GarbageCanType TomatoType)
    (canContain GarbageCanType VaseType)
    (canContain MicrowaveType BowlType)
    (canContain MicrowaveType BreadType)
    (canContain MicrowaveType EggType)
    (canContain MicrowaveType MugType)
    (canContain MicrowaveType PlateType)
    (canContain MicrowaveType PotatoType)
    (canContain MicrowaveType TomatoType)
    (canContain ShelfType BowlType)
    (canContain ShelfType BreadType)
    (canContain ShelfType DishSpongeType)
    (canContain ShelfType EggType)
    (canContain ShelfType ForkType)
    (canContain ShelfType KettleType)
    (canContain ShelfType MugType)
    (canContain ShelfType PepperShakerType)
    (canContain ShelfType PlateType)
    (canContain ShelfType PotatoType)
    (canContain ShelfType SpatulaType)
    (canContain ShelfType TomatoType)
    (canContain ShelfType VaseType)
    (canContain SinkBasinType BowlType)
    (canContain SinkBasinType DishSpongeType)
    (canContain SinkBasinType EggType)
    (canContain SinkBasinType ForkType)
    (canContain SinkBasinType KettleType)
    (canContain SinkBasinType MugType)
    (canContain SinkBasinType PlateType)
    (canContain SinkBasinType PotatoType)
    (canContain SinkBasinType SpatulaType)
    (canContain SinkBasinType TomatoType)
    (canContain StoveBurnerType KettleType)
  )
  (:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r CabinetType) (objectType ?o MugType) (heatable ?o) (isHot ?o) (inReceptacle ?o ?r))))
)
