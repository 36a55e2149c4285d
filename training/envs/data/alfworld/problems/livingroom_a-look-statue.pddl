; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; livingroom_a-look-statue: examine the statue with the desklamp (look_at_obj_in_light)
(define (problem livingroom_a_look_statue)
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
    Newspaper_bar_00 - object ; newspaper 1
    Vase_bar_00 - object ; vase 1
    Book_bar_00 - object ; book 1
    RemoteControl_bar_00 - object ; remotecontrol 1
    Statue_bar_00 - object ; statue 1
    DeskLamp_bar_00 - object ; desklamp 1
    KeyChain_bar_00 - object ; keychain 1
    Pillow_bar_00 - object ; pillow 1
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
    BookType - otype
    ButterKnifeType - otype
    DeskLampType - otype
    KeyChainType - otype
    KnifeType - otype
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
    (objectType Newspaper_bar_00 NewspaperType)
    (inReceptacle Newspaper_bar_00 ArmChair_bar_00)
    (objectAtLocation Newspaper_bar_00 loc_bar_1)
    (pickupable Newspaper_bar_00)
    (objectType Vase_bar_00 VaseType)
    (inReceptacle Vase_bar_00 Cabinet_bar_00)
    (objectAtLocation Vase_bar_00 loc_bar_3)
    (pickupable Vase_bar_00)
    (objectType Book_bar_00 BookType)
    (inReceptacle Book_bar_00 CoffeeTable_bar_00)
    (objectAtLocation Book_bar_00 loc_bar_4)
    (pickupable Book_bar_00)
    (objectType RemoteControl_bar_00 RemoteControlType)
    (inReceptacle RemoteControl_bar_00 CoffeeTable_bar_00)
    (objectAtLocation RemoteControl_bar_00 loc_bar_4)
    (pickupable RemoteControl_bar_00)
    (objectType Statue_bar_00 StatueType)
    (inReceptacle Statue_bar_00 Shelf_bar_00)
    (objectAtLocation Statue_bar_00 loc_bar_10)
    (pickupable Statue_bar_00)
    (objectType DeskLamp_bar_00 DeskLampType)
    (inReceptacle DeskLamp_bar_00 SideTable_bar_00)
    (objectAtLocation DeskLamp_bar_00 loc_bar_12)
    (toggleable DeskLamp_bar_00)
    (objectType KeyChain_bar_00 KeyChainType)
    (inReceptacle KeyChain_bar_00 SideTable_bar_00)
    (objectAtLocation KeyChain_bar_00 loc_bar_12)
    (pickupable KeyChain_bar_00)
    (objectType Pillow_bar_00 PillowType)
    (inReceptacle Pillow_bar_00 Sofa_bar_00)
    (objectAtLocation Pillow_bar_00 loc_bar_13)
    (pickupable Pillow_bar_00)
    (canContain ArmChairType BookType)
    (canContain ArmChairType KeyChainType)
    (canContain ArmChairType NewspaperType)
    (canContain ArmChairType PillowType)
    (canContain ArmChairType RemoteControlType)
    (canContain CabinetType BookType)
    (canContain CabinetType KeyChainType)
    (canContain CabinetType NewspaperType)
    (canContain CabinetType RemoteControlType)
    (canContain CabinetType StatueType)
    (canContain CabinetType VaseType)
    (canContain CoffeeTableType BookType)
    (canContain CoffeeTableType DeskLampType)
    (canContain CoffeeTableType KeyChainType)
    (canContain CoffeeTableType NewspaperType)
    (canContain CoffeeTableType PillowType)
    (canContain CoffeeTableType RemoteControlType)
    (canContain CoffeeTableType StatueType)
    (canContain CoffeeTableType VaseType)
    (canContain DrawerType BookType)
    (canContain DrawerType KeyChainType)
    (canContain DrawerType NewspaperType)
    (canContain DrawerType RemoteControlType)
    (canContain GarbageCanType BookType)
    (canContain GarbageCanType KeyChainType)
    (canContain GarbageCanType NewspaperType)
    (canContain GarbageCanType RemoteControlType)
    (canContain GarbageCanType StatueType)
    (canContain GarbageCanType VaseType)
    (canContain ShelfType BookType)
    (canContain ShelfType DeskLampType)
    (canContain ShelfType KeyChainType)
    (canContain ShelfType NewspaperType)
    (canContain ShelfType RemoteControlType)
    (canContain ShelfType StatueType)
    (canContain ShelfType VaseType)
    (canContain SideTableType BookType)
    (canContain SideTableType DeskLampType)
    (canContain SideTableType KeyChainType)
    (canContain SideTableType NewspaperType)
    (canContain SideTableType PillowType)
    (canContain SideTableType RemoteControlType)
    (canContain SideTableType StatueType)
    (canContain SideTableType VaseType)
    (canContain SofaType BookType)
    (canContain SofaType KeyChainType)
    (canContain SofaType NewspaperType)
    (canContain SofaType PillowType)
    (canContain SofaType RemoteControlType)
    (canContain TVStandType BookType)
    (canContain TVStandType DeskLampType)
    (canContain TVStandType KeyChainType)
    (canContain TVStandType NewspaperType)
    (canContain TVStandType PillowType)
    (canContain TVStandType RemoteControlType)
    (canContain TVStandType StatueType)
    (canContain TVStandType VaseType)
  )
  (:goal
    (and
      (exists (?lamp - object ?r - receptacle ?a - agent ?l - location)
        (and (objectType ?lamp DeskLampType) (toggleable ?lamp) (isToggled ?lamp)
             (inReceptacle ?lamp ?r) (receptacleAtLocation ?r ?l) (atLocation ?a ?l)))
      (exists (?o - object ?a - agent)
        (and (objectType ?o StatueType) (holds ?a ?o)))))
)
