; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; livingroom_a-two-keychain: put two keychain in sofa (pick_two_obj_and_place)
(define (problem livingroom_a_two_keychain)
  (:domain alfred)
  (:objects
    agent1 - agent
    loc_bar_0 - location ; the middle of the room
    loc_bar_1 - location ; at armchair 1
    loc_bar_2 - location ; at cabinet 1
    loc_bar_3 - location ; at cabinet 2
    loc_bar_4 - location ; at coffeetable 1
    loc_bar_5 - location ; at drawer 1
    loc_bar_6 - location ; at drawer 2
    loc_bar_7 - location ; at drawer 3
    loc_bar_8 - location ; at garbagecan 1
    loc_bar_9 - location ; at shelf 1
    loc_bar_10 - location ; at shelf 2
    loc_bar_11 - location ; at sidetable 1
    loc_bar_12 - location ; at sidetable 2
    loc_bar_13 - location ; at sofa 1
    loc_bar_14 - location ; at tvstand 1
    ArmChair_bar_00 - receptacle ; armchair 1
    Cabinet_bar_01 - receptacle ; cabinet 1
    Cabinet_bar_00 - receptacle ; cabinet 2
    CoffeeTable_bar_00 - receptacle ; coffeetable 1
    Drawer_bar_02 - receptacle ; drawer 1
    Drawer_bar_01 - receptacle ; drawer 2
    Drawer_bar_00 - receptacle ; drawer 3
    GarbageCan_bar_00 - receptacle ; garbagecan 1
    Shelf_bar_01 - receptacle ; shelf 1
    Shelf_bar_00 - receptacle ; shelf 2
    SideTable_bar_01 - receptacle ; sidetable 1
    SideTable_bar_00 - receptacle ; sidetable 2
    Sofa_bar_00 - receptacle ; sofa 1
    TVStand_bar_00 - receptacle ; tvstand 1
    Pillow_bar_00 - object ; pillow 1
    KeyChain_bar_01 - object ; keychain 1
    Newspaper_bar_00 - object ; newspaper 1
    KeyChain_bar_00 - object ; keychain 2
    Vase_bar_00 - object ; vase 1
    DeskLamp_bar_00 - object ; desklamp 1
    RemoteControl_bar_00 - object ; remotecontrol 1
    Laptop_bar_00 - object ; laptop 1
    Statue_bar_00 - object ; statue 1
    ArmChairType - rtype
    CabinetType - rtype
    CoffeeTableType - rtype
    DrawerType - rtype
    FridgeType - rtype
    GarbageCanType - rtype
    MicrowaveType - rtype
    ShelfType - rtype
    SideTableType - rtype
    SinkBasinType - rtype
    SofaType - rtype
    TVStandType - rtype
    ButterKnifeType - otype
    DeskLampType - otype
    KeyChainType - otype
    KnifeType - otype
    LaptopType - otype
    NewspaperType - otype
    PillowType - otype
    RemoteControlType - otype
    StatueType - otype
    VaseType - otype
  )
  (:init
    (atLocation agent1 loc_bar_0)
    (receptacleAtLocation ArmChair_bar_00 loc_bar_1)
    (receptacleType ArmChair_bar_00 ArmChairType)
    (receptacleAtLocation Cabinet_bar_01 loc_bar_2)
    (receptacleType Cabinet_bar_01 CabinetType)
    (openable Cabinet_bar_01)
    (receptacleAtLocation Cabinet_bar_00 loc_bar_3)
    (receptacleType Cabinet_bar_00 CabinetType)
    (openable Cabinet_bar_00)
    (receptacleAtLocation CoffeeTable_bar_00 loc_bar_4)
    (receptacleType CoffeeTable_bar_00 CoffeeTableType)
    (receptacleAtLocation Drawer_bar_02 loc_bar_5)
    (receptacleType Drawer_bar_02 DrawerType)
    (openable Drawer_bar_02)
    (receptacleAtLocation Drawer_bar_01 loc_bar_6)
    (receptacleType Drawer_bar_01 DrawerType)
    (openable Drawer_bar_01)
    (receptacleAtLocation Drawer_bar_00 loc_bar_7)
    (receptacleType Drawer_bar_00 DrawerType)
    (openable Drawer_bar_00)
    (receptacleAtLocation GarbageCan_bar_00 loc_bar_8)
    (receptacleType GarbageCan_bar_00 GarbageCanType)
    (receptacleAtLocation Shelf_bar_01 loc_bar_9)
    (receptacleType Shelf_bar_01 ShelfType)
    (receptacleAtLocation Shelf_bar_00 loc_bar_10)
    (receptacleType Shelf_bar_00 ShelfType)
    (receptacleAtLocation SideTable_bar_01 loc_bar_11)
    (receptacleType SideTable_bar_01 SideTableType)
    (receptacleAtLocation SideTable_bar_00 loc_bar_12)
    (receptacleType SideTable_bar_00 SideTableType)
    (receptacleAtLocation Sofa_bar_00 loc_bar_13)
    (receptacleType Sofa_bar_00 SofaType)
    (receptacleAtLocation TVStand_bar_00 loc_bar_14)
    (receptacleType TVStand_bar_00 TVStandType)
    (objectType Pillow_bar_00 PillowType)
    (inReceptacle Pillow_bar_00 ArmChair_bar_00)
    (objectAtLocation Pillow_bar_00 loc_bar_1)
    (pickupable Pillow_bar_00)
    (objectType KeyChain_bar_01 KeyChainType)
    (inReceptacle KeyChain_bar_01 CoffeeTable_bar_00)
    (objectAtLocation KeyChain_bar_01 loc_bar_4)
    (pickupable KeyChain_bar_01)
    (objectType Newspaper_bar_00 NewspaperType)
    (inReceptacle Newspaper_bar_00 CoffeeTable_bar_00)
    (objectAtLocation Newspaper_bar_00 loc_bar_4)
    (pickupable Newspaper_bar_00)
    (objectType KeyChain_bar_00 KeyChainType)
    (inReceptacle KeyChain_bar_00 Drawer_bar_00)
    (objectAtLocation KeyChain_bar_00 loc_bar_7)
    (pickupable KeyChain_bar_00)
    (objectType Vase_bar_00 VaseType)
    (inReceptacle Vase_bar_00 Shelf_bar_01)
    (objectAtLocation Vase_bar_00 loc_bar_9)
    (pickupable Vase_bar_00)
    (objectType DeskLamp_bar_00 DeskLampType)
    (inReceptacle DeskLamp_bar_00 SideTable_bar_01)
    (objectAtLocation DeskLamp_bar_00 loc_bar_11)
    (toggleable DeskLamp_bar_00)
    (objectType RemoteControl_bar_00 RemoteControlType)
    (inReceptacle RemoteControl_bar_00 SideTable_bar_01)
    (objectAtLocation RemoteControl_bar_00 loc_bar_11)
    (pickupable RemoteControl_bar_00)
    (objectType Laptop_bar_00 LaptopType)
    (inReceptacle Laptop_bar_00 TVStand_bar_00)
    (objectAtLocation Laptop_bar_00 loc_bar_14)
    (pickupable Laptop_bar_00)
    (objectType Statue_bar_00 StatueType)
    (inReceptacle Statue_bar_00 TVStand_bar_00)
    (objectAtLocation Statue_bar_00 loc_bar_14)
    (pickupable Statue_bar_00)
    (canContain ArmChairType KeyChainType)
    (canContain ArmChairType LaptopType)
    (canContain ArmChairType NewspaperType)
    (canContain ArmChairType PillowType)
    (canContain ArmChairType RemoteControlType)
    (canContain CabinetType KeyChainType)
    (canContain CabinetType NewspaperType)
    (canContain CabinetType RemoteControlType)
    (canContain CabinetType StatueType)
    (canContain CabinetType VaseType)
    (canContain CoffeeTableType DeskLampType)
    (canContain CoffeeTableType KeyChainType)
    (canContain CoffeeTableType LaptopType)
    (canContain CoffeeTableType NewspaperType)
    (canContain CoffeeTableType PillowType)
    (canContain CoffeeTableType RemoteControlType)
    (canContain CoffeeTableType StatueType)
    (canContain CoffeeTableType VaseType)
    (canContain DrawerType KeyChainType)
    (canContain DrawerType NewspaperType)
    (canContain DrawerType RemoteControlType)
    (canContain GarbageCanType KeyChainType)
    (canContain GarbageCanType NewspaperType)
    (canContain GarbageCanType RemoteControlType)
    (canContain GarbageCanType StatueType)
    (canContain GarbageCanType VaseType)
    (canContain ShelfType DeskLampType)
    (canContain ShelfType KeyChainType)
    (canContain ShelfType LaptopType)
    (canContain ShelfType NewspaperType)
    (canContain ShelfType RemoteControlType)
    (canContain ShelfType StatueType)
    (canContain ShelfType VaseType)
    (canContain SideTableType DeskLampType)
    (canContain SideTableType KeyChainType)
    (canContain SideTableType LaptopType)
    (canContain SideTableType NewspaperType)
    (canContain SideTableType PillowType)
    (canContain SideTableType RemoteControlType)
    (canContain SideTableType StatueType)
    (canContain SideTableType VaseType)
    (canContain SofaType KeyChainType)
    (canContain SofaType LaptopType)
    (canContain SofaType NewspaperType)
    (canContain SofaType PillowType)
    (canContain SofaType RemoteControlType)
    (canContain TVStandType DeskLampType)
    (canContain TVStandType KeyChainType)
    (canContain TVStandType LaptopType)
    (canContain TVStandType NewspaperType)
    (canContain TVStandType PillowType)
    (canContain TVStandType RemoteControlType)
    (canContain TVStandType StatueType)
    (canContain TVStandType VaseType)
  )
  (:goal
    (exists (?r - receptacle ?o1 - object ?o2 - object)
      (and (receptacleType ?r SofaType) (objectType ?o1 KeyChainType) (objectType ?o2 KeyChainType)
           (not (= ?o1 ?o2)) (inReceptacle ?o1 ?r) (inReceptacle ?o2 ?r))))
)
