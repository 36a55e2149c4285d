; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file.
; bathroom_a-clean-cloth: clean some cloth and put it in countertop (pick_clean_then_place_in_recep)
(define (problem bathroom_a_clean_cloth)
  (:domain alfred)
  (:objects
    agent1 - agent
    loc_bar_0 - location ; the middle of the room
    loc_bar_1 - location ; at bathtubbasin 1
    loc_bar_2 - location ; at cabinet 1
    loc_bar_3 - location ; at cabinet 2
    loc_bar_4 - location ; at cabinet 3
    loc_bar_5 - location ; at cabinet 4
    loc_bar_6 - location ; at countertop 1
    loc_bar_7 - location ; at garbagecan 1
    loc_bar_8 - location ; at handtowelholder 1
    loc_bar_9 - location ; at sinkbasin 1
    loc_bar_10 - location ; at sinkbasin 2
    loc_bar_11 - location ; at toilet 1
    loc_bar_12 - location ; at toiletpaperhanger 1
    loc_bar_13 - location ; at towelholder 1
    Bathtub_bar_00_bar_BathtubBasin - receptacle ; bathtubbasin 1
    Cabinet_bar_03 - receptacle ; cabinet 1
    Cabinet_bar_02 - receptacle ; cabinet 2
    Cabinet_bar_01 - receptacle ; cabinet 3
    Cabinet_bar_00 - receptacle ; cabinet 4
    CounterTop_bar_00 - receptacle ; countertop 1
    GarbageCan_bar_00 - receptacle ; garbagecan 1
    HandTowelHolder_bar_00 - receptacle ; handtowelholder 1
    Sink_bar_01_bar_SinkBasin - receptacle ; sinkbasin 1
    Sink_bar_00_bar_SinkBasin - receptacle ; sinkbasin 2
    Toilet_bar_00 - receptacle ; toilet 1
    ToiletPaperHanger_bar_00 - receptacle ; toiletpaperhanger 1
    TowelHolder_bar_00 - receptacle ; towelholder 1
    SoapBar_bar_00 - object ; soapbar 1
    ToiletPaper_bar_00 - object ; toiletpaper 1
    Cloth_bar_00 - object ; cloth 1
    SprayBottle_bar_00 - object ; spraybottle 1
    Candle_bar_00 - object ; candle 1
    SoapBottle_bar_00 - object ; soapbottle 1
    TissueBox_bar_00 - object ; tissuebox 1
    Towel_bar_00 - object ; towel 1
    BathtubBasinType - rtype
    CabinetType - rtype
    CounterTopType - rtype
    FridgeType - rtype
    GarbageCanType - rtype
    HandTowelHolderType - rtype
    MicrowaveType - rtype
    SinkBasinType - rtype
    ToiletType - rtype
    ToiletPaperHangerType - rtype
    TowelHolderType - rtype
    ButterKnifeType - otype
    CandleType - otype
    ClothType - otype
    KnifeType - otype
    SoapBarType - otype
    SoapBottleType - otype
    SprayBottleType - otype
    TissueBoxType - otype
    ToiletPaperType - otype
    TowelType - otype
  )
  (:init
    (atLocation agent1 loc_bar_0)
    (receptacleAtLocation Bathtub_bar_00_bar_BathtubBasin loc_bar_1)
    (receptacleType Bathtub_bar_00_bar_BathtubBasin BathtubBasinType)
    (receptacleAtLocation Cabinet_bar_03 loc_bar_2)
    (receptacleType Cabinet_bar_03 CabinetType)
    (openable Cabinet_bar_03)
    (receptacleAtLocation Cabinet_bar_02 loc_bar_3)
    (receptacleType Cabinet_bar_02 CabinetType)
    (openable Cabinet_bar_02)
    (receptacleAtLocation Cabinet_bar_01 loc_bar_4)
    (receptacleType Cabinet_bar_01 CabinetType)
    (openable Cabinet_bar_01)
    (receptacleAtLocation Cabinet_bar_00 loc_bar_5)
    (receptacleType Cabinet_bar_00 CabinetType)
    (openable Cabinet_bar_00)
    (receptacleAtLocation CounterTop_bar_00 loc_bar_6)
    (receptacleType CounterTop_bar_00 CounterTopType)
    (receptacleAtLocation GarbageCan_bar_00 loc_bar_7)
    (receptacleType GarbageCan_bar_00 GarbageCanType)
    (receptacleAtLocation HandTowelHolder_bar_00 loc_bar_8)
    (receptacleType HandTowelHolder_bar_00 HandTowelHolderType)
    (receptacleAtLocation Sink_bar_01_bar_SinkBasin loc_bar_9)
    (receptacleType Sink_bar_01_bar_SinkBasin SinkBasinType)
    (receptacleAtLocation Sink_bar_00_bar_SinkBasin loc_bar_10)
    (receptacleType Sink_bar_00_bar_SinkBasin SinkBasinType)
    (receptacleAtLocation Toilet_bar_00 loc_bar_11)
    (receptacleType Toilet_bar_00 ToiletType)
    (receptacleAtLocation ToiletPaperHanger_bar_00 loc_bar_12)
    (receptacleType ToiletPaperHanger_bar_00 ToiletPaperHangerType)
    (receptacleAtLocation TowelHolder_bar_00 loc_bar_13)
    (receptacleType TowelHolder_bar_00 TowelHolderType)
    (objectType SoapBar_bar_00 SoapBarType)
    (inReceptacle SoapBar_bar_00 Bathtub_bar_00_bar_BathtubBasin)
    (objectAtLocation SoapBar_bar_00 loc_bar_1)
    (pickupable SoapBar_bar_00)
    (cleanable SoapBar_bar_00)
    (objectType ToiletPaper_bar_00 ToiletPaperType)
    (inReceptacle ToiletPaper_bar_00 Cabinet_bar_03)
    (objectAtLocation ToiletPaper_bar_00 loc_bar_2)
    (pickupable ToiletPaper_bar_00)
    (objectType Cloth_bar_00 ClothType)
    (inReceptacle Cloth_bar_00 Cabinet_bar_01)
    (objectAtLocation Cloth_bar_00 loc_bar_4)
    (pickupable Cloth_bar_00)
    (cleanable Cloth_bar_00)
    (objectType SprayBottle_bar_00 SprayBottleType)
    (inReceptacle SprayBottle_bar_00 Cabinet_bar_01)
    (objectAtLocation SprayBottle_bar_00 loc_bar_4)
    (pickupable SprayBottle_bar_00)
    (objectType Candle_bar_00 CandleType)
    (inReceptacle Candle_bar_00 CounterTop_bar_00)
    (objectAtLocation Candle_bar_00 loc_bar_6)
    (pickupable Candle_bar_00)
    (objectType SoapBottle_bar_00 SoapBottleType)
    (inReceptacle SoapBottle_bar_00 CounterTop_bar_00)
    (objectAtLocation SoapBottle_bar_00 loc_bar_6)
    (pickupable SoapBottle_bar_00)
    (objectType TissueBox_bar_00 TissueBoxType)
    (inReceptacle TissueBox_bar_00 GarbageCan_bar_00)
    (objectAtLocation TissueBox_bar_00 loc_bar_7)
    (pickupable TissueBox_bar_00)
    (objectType Towel_bar_00 TowelType)
    (inReceptacle Towel_bar_00 TowelHolder_bar_00)
    (objectAtLocation Towel_bar_00 loc_bar_13)
    (pickupable Towel_bar_00)
    (canContain BathtubBasinType ClothType)
    (canContain BathtubBasinType SoapBarType)
    (canContain BathtubBasinType SoapBottleType)
    (canContain CabinetType CandleType)
    (canContain CabinetType ClothType)
    (canContain CabinetType SoapBarType)
    (canContain CabinetType SoapBottleType)
    (canContain CabinetType SprayBottleType)
    (canContain CabinetType TissueBoxType)
    (canContain CabinetType ToiletPaperType)
    (canContain CabinetType TowelType)
    (canContain CounterTopType CandleType)
    (canContain CounterTopType ClothType)
    (canContain CounterTopType SoapBarType)
    (canContain CounterTopType SoapBottleType)
    (canContain CounterTopType SprayBottleType)
    (canContain CounterTopType TissueBoxType)
    (canContain CounterTopType ToiletPaperType)
    (canContain CounterTopType TowelType)
    (canContain GarbageCanType CandleType)
    (canContain GarbageCanType ClothType)
    (canContain GarbageCanType SoapBarType)
    (canContain GarbageCanType SoapBottleType)
    (canContain GarbageCanType SprayBottleType)
    (canContain GarbageCanType TissueBoxType)
    (canContain GarbageCanType ToiletPaperType)
    (canContain GarbageCanType TowelType)
    (canContain SinkBasinType ClothType)
    (canContain SinkBasinType SoapBarType)
    (canContain ToiletType CandleType)
    (canContain ToiletType ClothType)
    (canContain ToiletType SoapBarType)
    (canContain ToiletType SoapBottleType)
    (canContain ToiletType SprayBottleType)
    (canContain ToiletType TissueBoxType)
    (canContain ToiletType ToiletPaperType)
    (canContain ToiletPaperHangerType ToiletPaperType)
    (canContain TowelHolderType TowelType)
  )
  (:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r CounterTopType) (objectType ?o ClothType) (cleanable ?o) (isClean ?o) (inReceptacle ?o ?r))))
)
