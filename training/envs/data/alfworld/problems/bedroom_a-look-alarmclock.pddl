; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; bedroom_a-look-alarmclock: look at alarmclock under the desklamp (look_at_obj_in_light)
(define (problem bedroom_a_look_alarmclock)
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
    Laptop_bar_00 - object ; laptop 1
    Pillow_bar_00 - object ; pillow 1
    DeskLamp_bar_00 - object ; desklamp 1
    Pen_bar_00 - object ; pen 1
    CreditCard_bar_00 - object ; creditcard 1
    Book_bar_00 - object ; book 1
    CellPhone_bar_00 - object ; cellphone 1
    AlarmClock_bar_00 - object ; alarmclock 1
    KeyChain_bar_00 - object ; keychain 1
    CD_bar_00 - object ; cd 1
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
    CreditCardType - otype
    DeskLampType - otype
    KeyChainType - otype
    KnifeType - otype
    LaptopType - otype
    PenType - otype
    PillowType - otype
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
    (objectType Laptop_bar_00 LaptopType)
    (inReceptacle Laptop_bar_00 Bed_bar_00)
    (objectAtLocation Laptop_bar_00 loc_bar_1)
    (pickupable Laptop_bar_00)
    (objectType Pillow_bar_00 PillowType)
    (inReceptacle Pillow_bar_00 Bed_bar_00)
    (objectAtLocation Pillow_bar_00 loc_bar_1)
    (pickupable Pillow_bar_00)
    (objectType DeskLamp_bar_00 DeskLampType)
    (inReceptacle DeskLamp_bar_00 Desk_bar_00)
    (objectAtLocation DeskLamp_bar_00 loc_bar_2)
    (toggleable DeskLamp_bar_00)
    (objectType Pen_bar_00 PenType)
    (inReceptacle Pen_bar_00 Desk_bar_00)
    (objectAtLocation Pen_bar_00 loc_bar_2)
    (pickupable Pen_bar_00)
    (objectType CreditCard_bar_00 CreditCardType)
    (inReceptacle CreditCard_bar_00 Drawer_bar_03)
    (objectAtLocation CreditCard_bar_00 loc_bar_4)
    (pickupable CreditCard_bar_00)
    (objectType Book_bar_00 BookType)
    (inReceptacle Book_bar_00 Dresser_bar_00)
    (objectAtLocation Book_bar_00 loc_bar_8)
    (pickupable Book_bar_00)
    (objectType CellPhone_bar_00 CellPhoneType)
    (inReceptacle CellPhone_bar_00 Dresser_bar_00)
    (objectAtLocation CellPhone_bar_00 loc_bar_8)
    (pickupable CellPhone_bar_00)
    (objectType AlarmClock_bar_00 AlarmClockType)
    (inReceptacle AlarmClock_bar_00 Shelf_bar_01)
    (objectAtLocation AlarmClock_bar_00 loc_bar_14)
    (pickupable AlarmClock_bar_00)
    (objectType KeyChain_bar_00 KeyChainType)
    (inReceptacle KeyChain_bar_00 Shelf_bar_01)
    (objectAtLocation KeyChain_bar_00 loc_bar_14)
    (pickupable KeyChain_bar_00)
    (objectType CD_bar_00 CDType)
    (inReceptacle CD_bar_00 SideTable_bar_00)
    (objectAtLocation CD_bar_00 loc_bar_16)
    (pickupable CD_bar_00)
    (canContain BedType BookType)
    (canContain BedType CDType)
    (canContain BedType CellPhoneType)
    (canContain BedType CreditCardType)
    (canContain BedType KeyChainType)
    (canContain BedType LaptopType)
    (canContain BedType PenType)
    (canContain BedType PillowType)
    (canContain DeskType AlarmClockType)
    (canContain DeskType BookType)
    (canContain DeskType CDType)
    (canContain DeskType CellPhoneType)
    (canContain DeskType CreditCardType)
    (canContain DeskType DeskLampType)
    (canContain DeskType KeyChainType)
    (canContain DeskType LaptopType)
    (canContain DeskType PenType)
    (canContain DeskType PillowType)
    (canContain DrawerType AlarmClockType)
    (canContain DrawerType BookType)
    (canContain DrawerType CDType)
    (canContain DrawerType CellPhoneType)
    (canContain DrawerType CreditCardType)
    (canContain DrawerType KeyChainType)
    (canContain DrawerType PenType)
    (canContain DresserType AlarmClockType)
    (canContain DresserType BookType)
    (canContain DresserType CDType)
    (canContain DresserType CellPhoneType)
    (canContain DresserType CreditCardType)
    (canContain DresserType DeskLampType)
    (canContain DresserType KeyChainType)
    (canContain DresserType LaptopType)
    (canContain DresserType PenType)
    (canContain DresserType PillowType)
    (canContain GarbageCanType AlarmClockType)
    (canContain GarbageCanType BookType)
    (canContain GarbageCanType CDType)
    (canContain GarbageCanType CellPhoneType)
    (canContain GarbageCanType CreditCardType)
    (canContain GarbageCanType KeyChainType)
    (canContain GarbageCanType PenType)
    (canContain SafeType CDType)
    (canContain SafeType CellPhoneType)
    (canContain SafeType CreditCardType)
    (canContain SafeType KeyChainType)
    (canContain ShelfType AlarmClockType)
    (canContain ShelfType BookType)
    (canContain ShelfType CDType)
    (canContain ShelfType CellPhoneType)
    (canContain ShelfType CreditCardType)
    (canContain ShelfType DeskLampType)
    (canContain ShelfType KeyChainType)
    (canContain ShelfType LaptopType)
    (canContain ShelfType PenType)
    (canContain SideTableType AlarmClockType)
    (canContain SideTableType BookType)
    (canContain SideTableType CDType)
    (canContain SideTableType CellPhoneType)
    (canContain SideTableType CreditCardType)
    (canContain SideTableType DeskLampType)
    (canContain SideTableType KeyChainType)
    (canContain SideTableType LaptopType)
    (canContain SideTableType PenType)
    (canContain SideTableType PillowType)
  )
  (:goal
    (and
      (exists (?lamp - object ?r - receptacle ?a - agent ?l - location)
        (and (objectType ?lamp DeskLampType) (toggleable ?lamp) (isToggled ?lamp)
             (inReceptacle ?lamp ?r) (receptacleAtLocation ?r ?l) (atLocation ?a ?l)))
      (exists (?o - object ?a - agent)
        (and (objectType ?o AlarmClockType) (holds ?a ?o)))))
)
