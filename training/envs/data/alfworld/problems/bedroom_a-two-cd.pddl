; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; bedroom_a-two-cd: find two cd and put them in safe (pick_two_obj_and_place)
(define (problem bedroom_a_two_cd)
  (:domain alfred)
  (:objects
    agent1 - agent
    loc_bar_0 - location ; the middle of the room
    loc_bar_1 - location ; at bed 1
    loc_bar_2 - location ; at desk 1
    loc_bar_3 - location ; at drawer 1
    loc_bar_4 - location ; at drawer 2
    loc_bar_5 - location ; at drawer 3
    loc_bar_6 - location ; at drawer 4
    loc_bar_7 - location ; at drawer 5
    loc_bar_8 - location ; at dresser 1
    loc_bar_9 - location ; at garbagecan 1
    loc_bar_10 - location ; at laundryhamper 1
    loc_bar_11 - location ; at safe 1
    loc_bar_12 - location ; at shelf 1
    loc_bar_13 - location ; at shelf 2
    loc_bar_14 - location ; at shelf 3
    loc_bar_15 - location ; at shelf 4
    loc_bar_16 - location ; at sidetable 1
    Bed_bar_00 - receptacle ; bed 1
    Desk_bar_00 - receptacle ; desk 1
    Drawer_bar_04 - receptacle ; drawer 1
    Drawer_bar_03 - receptacle ; drawer 2
    Drawer_bar_02 - receptacle ; drawer 3
    Drawer_bar_01 - receptacle ; drawer 4
    Drawer_bar_00 - receptacle ; drawer 5
    Dresser_bar_00 - receptacle ; dresser 1
    GarbageCan_bar_00 - receptacle ; garbagecan 1
    LaundryHamper_bar_00 - receptacle ; laundryhamper 1
    Safe_bar_00 - receptacle ; safe 1
    Shelf_bar_03 - receptacle ; shelf 1
    Shelf_bar_02 - receptacle ; shelf 2
    Shelf_bar_01 - receptacle ; shelf 3
    Shelf_bar_00 - receptacle ; shelf 4
    SideTable_bar_00 - receptacle ; sidetable 1
    Pillow_bar_00 - object ; pillow 1
    DeskLamp_bar_00 - object ; desklamp 1
    Pencil_bar_00 - object ; pencil 1
    CD_bar_01 - object ; cd 1
    Watch_bar_00 - object ; watch 1
    AlarmClock_bar_00 - object ; alarmclock 1
    CD_bar_00 - object ; cd 2
    Vase_bar_00 - object ; vase 1
    Book_bar_00 - object ; book 1
    CellPhone_bar_00 - object ; cellphone 1
    BedType - rtype
    DeskType - rtype
    DrawerType - rtype
    DresserType - rtype
    FridgeType - rtype
    GarbageCanType - rtype
    LaundryHamperType - rtype
    MicrowaveType - rtype
    SafeType - rtype
    ShelfType - rtype
    SideTableType - rtype
    SinkBasinType - rtype
    AlarmClockType - otype
    BookType - otype
    ButterKnifeType - otype
    CDType - otype
    CellPhoneType - otype
    DeskLampType - otype
    KnifeType - otype
    PencilType - otype
    PillowType - otype
    VaseType - otype
    WatchType - otype
  )
  (:init
    (atLocation agent1 loc_bar_0)
    (receptacleAtLocation Bed_bar_00 loc_bar_1)
    (receptacleType Bed_bar_00 BedType)
    (receptacleAtLocation Desk_bar_00 loc_bar_2)
    (receptacleType Desk_bar_00 DeskType)
    (receptacleAtLocation Drawer_bar_04 loc_bar_3)
    (receptacleType Drawer_bar_04 DrawerType)
    (openable Drawer_bar_04)
    (receptacleAtLocation Drawer_bar_03 loc_bar_4)
    (receptacleType Drawer_bar_03 DrawerType)
    (openable Drawer_bar_03)
    (receptacleAtLocation Drawer_bar_02 loc_bar_5)
    (receptacleType Drawer_bar_02 DrawerType)
    (openable Drawer_bar_02)
    (receptacleAtLocation Drawer_bar_01 loc_bar_6)
    (receptacleType Drawer_bar_01 DrawerType)
    (openable Drawer_bar_01)
    (receptacleAtLocation Drawer_bar_00 loc_bar_7)
    (receptacleType Drawer_bar_00 DrawerType)
    (openable Drawer_bar_00)
    (receptacleAtLocation Dresser_bar_00 loc_bar_8)
    (receptacleType Dresser_bar_00 DresserType)
    (receptacleAtLocation GarbageCan_bar_00 loc_bar_9)
    (receptacleType GarbageCan_bar_00 GarbageCanType)
    (receptacleAtLocation LaundryHamper_bar_00 loc_bar_10)
    (receptacleType LaundryHamper_bar_00 LaundryHamperType)
    (receptacleAtLocation Safe_bar_00 loc_bar_11)
    (receptacleType Safe_bar_00 SafeType)
    (openable Safe_bar_00)
    (receptacleAtLocation Shelf_bar_03 loc_bar_12)
    (receptacleType Shelf_bar_03 ShelfType)
    (receptacleAtLocation Shelf_bar_02 loc_bar_13)
    (receptacleType Shelf_bar_02 ShelfType)
    (receptacleAtLocation Shelf_bar_01 loc_bar_14)
    (receptacleType Shelf_bar_01 ShelfType)
    (receptacleAtLocation Shelf_bar_00 loc_bar_15)
    (receptacleType Shelf_bar_00 ShelfType)
    (receptacleAtLocation SideTable_bar_00 loc_bar_16)
    (receptacleType SideTable_bar_00 SideTableType)
    (objectType Pillow_bar_00 PillowType)
    (inReceptacle Pillow_bar_00 Bed_bar_00)
    (objectAtLocation Pillow_bar_00 loc_bar_1)
    (pickupable Pillow_bar_00)
    (objectType DeskLamp_bar_00 DeskLampType)
    (inReceptacle DeskLamp_bar_00 Desk_bar_00)
    (objectAtLocation DeskLamp_bar_00 loc_bar_2)
    (toggleable DeskLamp_bar_00)
    (objectType Pencil_bar_00 PencilType)
    (inReceptacle Pencil_bar_00 Desk_bar_00)
    (objectAtLocation Pencil_bar_00 loc_bar_2)
    (pickupable Pencil_bar_00)
    (objectType CD_bar_01 CDType)
    (inReceptacle CD_bar_01 Drawer_bar_04)
    (objectAtLocation CD_bar_01 loc_bar_3)
    (pickupable CD_bar_01)
    (objectType Watch_bar_00 WatchType)
    (inReceptacle Watch_bar_00 Drawer_bar_01)
    (objectAtLocation Watch_bar_00 loc_bar_6)
    (pickupable Watch_bar_00)
    (objectType AlarmClock_bar_00 AlarmClockType)
    (inReceptacle AlarmClock_bar_00 Dresser_bar_00)
    (objectAtLocation AlarmClock_bar_00 loc_bar_8)
    (pickupable AlarmClock_bar_00)
    (objectType CD_bar_00 CDType)
    (inReceptacle CD_bar_00 Shelf_bar_02)
    (objectAtLocation CD_bar_00 loc_bar_13)
    (pickupable CD_bar_00)
    (objectType Vase_bar_00 VaseType)
    (inReceptacle Vase_bar_00 Shelf_bar_02)
    (objectAtLocation Vase_bar_00 loc_bar_13)
    (pickupable Vase_bar_00)
    (objectType Book_bar_00 BookType)
    (inReceptacle Book_bar_00 SideTable_bar_00)
    (objectAtLocation Book_bar_00 loc_bar_16)
    (pickupable Book_bar_00)
    (objectType CellPhone_bar_00 CellPhoneType)
    (inReceptacle CellPhone_bar_00 SideTable_bar_00)
    (objectAtLocation CellPhone_bar_00 loc_bar_16)
    (pickupable CellPhone_bar_00)
    (canContain BedType BookType)
    (canContain BedType CDType)
    (canContain BedType CellPhoneType)
    (canContain BedType PencilType)
    (canContain BedType PillowType)
    (canContain BedType WatchType)
    (canContain DeskType AlarmClockType)
    (canContain DeskType BookType)
    (canContain DeskType CDType)
    (canContain DeskType CellPhoneType)
    (canContain DeskType DeskLampType)
    (canContain DeskType PencilType)
    (canContain DeskType PillowType)
    (canContain DeskType VaseType)
    (canContain DeskType WatchType)
    (canContain DrawerType AlarmClockType)
    (canContain DrawerType BookType)
    (canContain DrawerType CDType)
    (canContain DrawerType CellPhoneType)
    (canContain DrawerType PencilType)
    (canContain DrawerType WatchType)
    (canContain DresserType AlarmClockType)
    (canContain DresserType BookType)
    (canContain DresserType CDType)
    (canContain DresserType CellPhoneType)
    (canContain DresserType DeskLampType)
    (canContain DresserType PencilType)
    (canContain DresserType PillowType)
    (canContain DresserType VaseType)
    (canContain DresserType WatchType)
    (canContain GarbageCanType AlarmClockType)
    (canContain GarbageCanType BookType)
    (canContain GarbageCanType CDType)
    (canContain GarbageCanType CellPhoneType)
    (canContain GarbageCanType PencilType)
    (canContain GarbageCanType VaseType)
    (canContain GarbageCanType WatchType)
    (canContain SafeType CDType)
    (canContain SafeType CellPhoneType)
    (canContain SafeType VaseType)
    (canContain SafeType WatchType)
    (canContain ShelfType AlarmClockType)
    (canContain ShelfType BookType)
    (canContain ShelfType CDType)
    (canContain ShelfType CellPhoneType)
    (canContain ShelfType DeskLampType)
    (canContain ShelfType PencilType)
    (canContain ShelfType VaseType)
    (canContain ShelfType WatchType)
    (canContain SideTableType AlarmClockType)
    (canContain SideTableType BookType)
    (canContain SideTableType CDType)
    (canContain SideTableType CellPhoneType)
    (canContain SideTableType DeskLampType)
    (canContain SideTableType PencilType)
    (canContain SideTableType PillowType)
    (canContain SideTableType VaseType)
    (canContain SideTableType WatchType)
  )
  (:goal
    (exists (?r - receptacle ?o1 - object ?o2 - object)
      (and (receptacleType ?r SafeType) (objectType ?o1 CDType) (objectType ?o2 CDType)
           (not (= ?o1 ?o2)) (inReceptacle ?o1 ?r) (inReceptacle ?o2 ?r))))
)
