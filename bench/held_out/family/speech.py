# (filename, voice, speed, pitch, phone_band, noise_vol, text)
SHORT = [
    (
        "voicemail_2026-01-12_0915.wav",
        "en-gb+f3",
        150,
        50,
        True,
        0.0,
        "Hi, this is Karen calling from Brightsmile Dental on Elm Street, with a message for the Harper family. "
        "We have Lily booked in for her six month check-up and cleaning on Thursday the twenty second of January, at a quarter to four in the afternoon, with Doctor Patel. "
        "Please arrive ten minutes early so we can update her medical forms. If you need to change the time, call us back on five five five, zero one four two. Thanks, bye.",
    ),
    (
        "voicemail_2026-01-19_1102.wav",
        "en-gb+f3",
        160,
        50,
        True,
        0.0,
        "Hello, it's Karen again from Brightsmile Dental. I'm afraid Doctor Patel is away at a conference next week, so we need to move Lily's appointment. "
        "We can offer Tuesday the twenty seventh at four fifteen instead. If that doesn't suit you, just give us a ring and we'll find another slot. Thank you.",
    ),
    (
        "voicemail_2026-01-14_0848.wav",
        "en-gb-x-rp+m2",
        150,
        45,
        True,
        0.008,
        "Good morning, this is Mister Donovan, the year four teacher at Hillcrest Primary, calling about Sam. "
        "He told me yesterday that he'd lost his reading book, and I just wanted to let you know it turned up in the lost property box next to the gym. "
        "Also, a reminder that the class trip to the Science Museum is this Friday. The coach leaves at eight thirty sharp, so please send him in with a packed lunch and the signed permission slip. "
        "The trip costs twelve pounds, which you can pay at the school office. Thanks very much.",
    ),
    (
        "voicemail_2026-01-16_1334.wav",
        "en-gb+f5",
        135,
        40,
        True,
        0.012,
        "Hello, it's Margaret from number fourteen. Just to let you know a parcel came for you while you were out, a great big box from the garden centre I think, so I've taken it in for you. "
        "I'll be home all afternoon, so pop round any time after two. Oh, and your side gate was banging in the wind, so I latched it. Bye bye.",
    ),
    (
        "voicemail_2026-01-21_1710.wav",
        "en-gb+grandma",
        130,
        45,
        True,
        0.0,
        "Hello darling, it's Granny. I just wanted to say happy birthday to Lily. I can't believe she's nine already. "
        "I've posted a card with a little something inside, it should arrive by Wednesday. "
        "Grandad and I are hoping to come down on the train on the fourteenth of March for the weekend, if that's all right with you. Ring me back when you get a chance. Love you all.",
    ),
    (
        "voicemail_2026-01-22_1125.wav",
        "en-us+m4",
        170,
        50,
        True,
        0.0,
        "This is an automated message from Swiftline Couriers. We attempted to deliver your parcel, reference S L four four seven one nine, today at eleven twenty, but no one was available to sign for it. "
        "We will try again tomorrow between eight in the morning and one in the afternoon. Alternatively, you can collect it from our depot on Mill Lane after six p.m. Please bring photo identification.",
    ),
    (
        "voicemail_2026-02-02_2014.wav",
        "en-gb-scotland",
        165,
        50,
        True,
        0.0,
        "Hey, it's Jonas. So, about the camping weekend in the Lake District. I've booked a pitch at the Braithwaite campsite from the eighteenth to the twentieth of July, it's thirty two pounds a night. "
        "Can you bring the big tent and the gas stove? I'll sort out the food. And text me if Ben is still coming, because we need to know how many seats we need in the car. Cheers.",
    ),
    (
        "voicemail_2026-02-09_1948.ogg",
        "en-gb-scotland",
        170,
        50,
        True,
        0.01,
        "Jonas again. Bad news, I'm afraid. The campsite flooded after that big storm last week, so they've cancelled our booking and given us a refund. "
        "But I've found a cabin near Keswick instead. It's a bit more, about forty five each per night, but it has a wood burner and a hot tub. Let me know by Sunday and I'll pay the deposit.",
    ),
    (
        "voicemail_2026-01-26_0802.wav",
        "en-gb-x-gbcwmd",
        155,
        50,
        True,
        0.02,
        "Hi, this is Dave from Henderson Plumbing, returning your call about the leaking boiler. I can come out on Monday morning, somewhere between nine and eleven. "
        "From what you described, it sounds like the pressure relief valve, which is usually around eighty five pounds including parts. "
        "If you could clear out the cupboard around the boiler before I get there, that would be a big help. Cheers, bye.",
    ),
    (
        "voicemail_2026-01-27_1530.wav",
        "en-us+f2",
        155,
        55,
        True,
        0.0,
        "Hello, this is Sophie from Oakwood Veterinary Clinic, calling about Biscuit. His blood test results came back this morning and everything looks normal, so there's nothing to worry about. "
        "He's due for his annual booster vaccination next month, and we also have his flea and worm treatment ready to collect at reception. We're open until seven on weekdays. Bye now.",
    ),
    (
        "voicemail_2026-01-28_1205.wav",
        "en-gb+m4",
        150,
        45,
        True,
        0.0,
        "Hi, it's Richard, the landlord. Just a heads up that the gas safety inspection is booked for Wednesday the fourth of February, between one and three in the afternoon. "
        "The engineer will need access to the kitchen and the boiler cupboard. "
        "Also, I'm afraid that from April the rent will go up to one thousand and fifty a month. I'll send the new contract over by email this week.",
    ),
    (
        "rec_0017.wav",
        "en-gb+f3",
        160,
        55,
        False,
        0.0,
        "Note to self. Things to get for Saturday's party. Two packs of balloons, candles in the shape of the number nine, paper plates and cups, orange juice, "
        "and the chocolate cake from Baker's on the high street, which I ordered under the name Harper. Pick it up at ten. "
        "And remember to ask Tom's mum whether he has a nut allergy.",
    ),
    (
        "voicemail_2026-01-28_1047.wav",
        "en-gb-x-gbclan",
        155,
        45,
        True,
        0.015,
        "Hello, this is Mike at Castle Road Garage, calling about the silver Ford Focus. We've had a look, and the front brake pads are worn right down, and the rear left tyre has a slow puncture. "
        "The total would be about two hundred and forty pounds with labour. Give us a call to approve it, and we can have it ready by Thursday afternoon.",
    ),
    (
        "voicemail_2026-01-30_1612.flac",
        "en-gb+f4",
        165,
        55,
        True,
        0.0,
        "Hi, this is Greenway Pharmacy. Your repeat prescription for Daniel Harper is ready to collect. Please bring some ID with you. "
        "We close at half past five on Saturdays, and we're closed all day on Sundays. Thank you.",
    ),
    (
        "voicemail_2026-02-01_1120.wav",
        "en+f2",
        170,
        60,
        True,
        0.02,
        "Hiya, it's Priya! Are you two free for dinner next Saturday? We're doing a curry night at ours, from about seven. "
        "Don't bring anything, honestly, maybe just a bottle of wine if you insist. Oh, and the kids are welcome too, ours have a new trampoline they're dying to show off. Speak soon!",
    ),
    (
        "voicemail_2026-02-04_1845.wav",
        "en-us+f3",
        155,
        50,
        True,
        0.0,
        "Hello, it's Coach Ellen from Riverside Swim Club. Sam did really well at Tuesday's session, and I'd like to move him up to the Dolphins group, "
        "which trains on Thursdays at half past five instead. The fee stays the same. Just let me know if Thursdays work for your family.",
    ),
    (
        "voicemail_2026-02-05_1000.wav",
        "en-us+m3",
        165,
        50,
        True,
        0.0,
        "This is a message from Northern Power. Your smart meter installation is confirmed for Friday the sixth of March, between eight a.m. and twelve noon. "
        "The engineer will need about two hours, and your electricity will be switched off for around thirty minutes during the work. To rearrange, please visit our website.",
    ),
    (
        "voicemail_2026-02-07_1122.wav",
        "en-gb+grandpa",
        125,
        40,
        True,
        0.0,
        "Hello, it's Grandad. Tell Sam I've finished fixing up the old bicycle for him. New chain, new brakes, and I've painted it blue, his favourite colour. "
        "I'll bring it with us when we come down in March. But tell him he has to wear his helmet, no arguments.",
    ),
    (
        "voicemail_2026-02-10_2130.wav",
        "en-us+f4",
        175,
        65,
        True,
        0.0,
        "Hi, it's Chloe. Just confirming I can babysit on Friday the thirteenth, from six until about eleven. Is it still fifteen an hour? "
        "And could you leave the wifi password on the fridge? I've got an essay to finish once the kids are asleep. Thanks!",
    ),
    (
        "voicemail_2026-02-11_0830.wav",
        "en-gb+f1",
        150,
        50,
        True,
        0.0,
        "Hello, this is Parkside Medical Centre with a message for Emma Harper. Your annual blood pressure review is now due. "
        "Please book an appointment with the practice nurse. Our phone lines open at eight every morning, or you can book through the online portal.",
    ),
    (
        "voicemail_2026-02-12_1405.ogg",
        "en-us",
        160,
        50,
        True,
        0.0,
        "This is Westfield Library. Our records show that three items on the card ending four four zero two are now two weeks overdue, including The Gruffalo and two children's atlases. "
        "Please return them, or renew them online, to avoid further charges.",
    ),
    (
        "voicemail_2026-02-16_0745.wav",
        "en-029",
        150,
        50,
        True,
        0.02,
        "Hi, it's Tony from T and K Roofing. I've had a look at the photos you sent of the loose tiles on the back roof. "
        "I can do the repair for three hundred and twenty pounds, scaffolding included, probably in the week of the ninth of March, weather permitting. Give me a call if you want to go ahead.",
    ),
    (
        "New Recording 12.flac",
        "en-gb+f3",
        155,
        55,
        False,
        0.0,
        "Summer holiday ideas. Option one, the villa in Menorca, two weeks in August, about two thousand two hundred all in, with its own pool. "
        "Option two, the caravan in Cornwall again. Much cheaper, about eight hundred, but the weather is a gamble. "
        "The kids voted for Menorca. Need to book the flights before the end of February to get the cheaper prices.",
    ),
    (
        "voicemail_2026-02-14_1630.wav",
        "en-us+f5",
        150,
        85,
        True,
        0.01,
        "Hi Mummy, it's Lily. I'm at Ava's house. Her mum says can I stay for a sleepover tonight? We're going to make pizza and watch a film. "
        "Please say yes! Ava's mum will drive me home tomorrow at ten o'clock.",
    ),
    (
        "voicemail_2026-02-18_0900.wav",
        "en-gb-x-rp",
        160,
        50,
        True,
        0.0,
        "This is a message from Fenwick Borough Council. Because of the bank holiday, your garden waste collection will move from Monday to Tuesday this week. "
        "Please put your brown bin out by seven a.m. on the day of collection. Thank you.",
    ),
    (
        "voicemail_2026-02-19_0815.wav",
        "en-us-nyc",
        170,
        45,
        True,
        0.0,
        "Hi Dan, it's Steve from the office. The Thursday meeting with the Leeds client has been moved to Friday at two. Can you bring the printed quarterly figures? "
        "Also, Rachel's leaving drinks are at the Red Lion straight after work on Friday, if you fancy it.",
    ),
]

# long recordings: (filename, phone_band, noise_vol, [(voice, speed, pitch, text), ...])
MUM = ("en-gb+f3", 160, 55)
DAD = ("en-gb+m3", 155, 45)
GRANNY = ("en-gb+grandma", 135, 45)
SAM = ("en-us+f5", 165, 75)
LILY = ("en+f4", 165, 90)
LONG = [
    (
        "rec_0009.ogg",
        False,
        0.01,
        [
            (*MUM, "Okay, the phone is recording. Granny, tell the kids the story about the turkey."),
            (
                *GRANNY,
                "Well, it was Christmas nineteen eighty four, and we had a big black Labrador called Bramble. I'd just taken the turkey out of the oven and put it on the side to rest, and I went to answer the door. When I came back, the whole bird was on the kitchen floor, and Bramble was under the table looking very pleased with himself. We ended up eating fish fingers and roast potatoes for Christmas dinner.",
            ),
            (*LILY, "That's so funny! Did you tell him off?"),
            (
                *GRANNY,
                "I couldn't, I was laughing too much. Your grandad drove to the petrol station and bought every mince pie they had left.",
            ),
            (*DAD, "Speaking of food, Sam, tell Granny what happened at football on Saturday."),
            (
                *SAM,
                "I scored a goal! It was a header from a corner in the last minute, and we won two one against Westbury Rovers. Coach said I was player of the match, and I got a little trophy.",
            ),
            (
                *GRANNY,
                "Oh, well done, sweetheart. You get that from your grandad, he played for the works team for years.",
            ),
            (*LILY, "And I lost my tooth! The wobbly one at the front. It came out when I bit into an apple at lunch."),
            (*MUM, "And the tooth fairy left a shiny pound coin under your pillow, didn't she."),
            (*LILY, "Two coins, actually."),
            (
                *DAD,
                "Inflation. Right, so what's the plan for New Year's Eve? Are we going down to the harbour for the fireworks, or staying in?",
            ),
            (
                *MUM,
                "I think the harbour. Priya said they're going too. The display starts at midnight, but we should get there by eleven to find a spot near the lighthouse, and take the flask of hot chocolate.",
            ),
            (
                *GRANNY,
                "I'll stay in with a cup of tea and watch it on the telly, thank you. My knees don't like the cold.",
            ),
        ],
    ),
    (
        "Sam school presentation.wav",
        False,
        0.006,
        [
            (
                "en-gb+f2",
                150,
                50,
                "Right, everyone, settle down please. Sam is going to present his project now. Off you go, Sam.",
            ),
            (
                *SAM,
                "My project is about volcanoes. A volcano is an opening in the Earth's crust, where melted rock called magma comes up from deep underground. When the magma reaches the surface it is called lava, and it can be hotter than one thousand degrees Celsius. Most volcanoes are found where the big plates of the Earth's crust meet, like all around the Pacific Ocean, which is called the Ring of Fire.",
            ),
            (
                *SAM,
                "There are three main types. Shield volcanoes are wide and flat, like the ones in Hawaii. Cinder cones are small and steep. And stratovolcanoes are tall and pointy, and they can explode very violently.",
            ),
            (
                *SAM,
                "The most famous eruption is Mount Vesuvius in Italy, in the year seventy nine. It buried the Roman town of Pompeii under ash, and the town stayed hidden for about one thousand seven hundred years. When archaeologists dug it up, they found loaves of bread still in the ovens, and the shapes of people in the ash.",
            ),
            (
                *SAM,
                "For my model, I built a volcano out of papier mache on a tray, and painted it brown and grey. Inside there is a plastic bottle. If you put in baking soda, washing up liquid and red food colouring, and then pour in vinegar, it foams up and comes out of the top like lava. My dad helped me with the painting, but I did the mixing all by myself.",
            ),
            (*SAM, "Thank you for listening. Does anyone have any questions?"),
            ("en-us+f4", 160, 80, "Are there any volcanoes in Iceland?"),
            (
                *SAM,
                "Yes, lots. Iceland sits on a crack between two plates, so it has about thirty active volcanoes. In twenty ten one of them erupted, and the ash cloud stopped planes flying across Europe for nearly a week.",
            ),
            (
                "en-gb+f2",
                150,
                50,
                "Excellent work, Sam. That was really well researched. Who's next? Maya, are you ready?",
            ),
        ],
    ),
    (
        "Call recording Castle Road Garage 2026-01-29 14-32.ogg",
        True,
        0.01,
        [
            ("en-gb-x-gbclan", 155, 45, "Castle Road Garage, Mike speaking."),
            (*DAD, "Hi Mike, it's Dan Harper, calling about the silver Focus. I got your voicemail."),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "Ah yes, Mister Harper. So, as I said, the front brake pads were right down to the metal, and the discs are scored as well, so we'd recommend doing the discs and the pads together. That's the safest thing.",
            ),
            (*DAD, "Okay. And what does that come to?"),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "Pads and discs at the front, plus fixing the slow puncture on the back tyre, comes to two hundred and ninety pounds with labour. It's a bit more than I said in the message because of the discs.",
            ),
            (*DAD, "Fine, go ahead with that."),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "Will do. While it was up on the ramp, the lad noticed something else. Your cambelt, the timing belt, is due. The car has done ninety two thousand miles, and the manufacturer says change it at a hundred thousand or every six years, and yours is still the original one. If that snaps, it can wreck the engine.",
            ),
            (*DAD, "How much would that be?"),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "About four hundred and fifty, with the water pump. It's not urgent today, but I'd book it in within the next couple of months.",
            ),
            (*DAD, "Let's leave it for now and do it in March then. Actually, isn't the MOT due around then as well?"),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "Let me check. Yes, your MOT runs out on the twentieth of March. We could do both on the same day, and knock twenty pounds off the test.",
            ),
            (*DAD, "Perfect, book me in for that. When can I pick the car up today?"),
            (
                "en-gb-x-gbclan",
                155,
                45,
                "Should be done by half four. We close at half five. You can pay by card when you collect. And if you need to get around before then, we've got a courtesy car, a little blue Corsa.",
            ),
            (*DAD, "No, that's fine, my wife can drop me off. Thanks, Mike."),
            ("en-gb-x-gbclan", 155, 45, "No problem. See you later."),
        ],
    ),
    (
        "New Recording 7.flac",
        False,
        0.004,
        [
            (
                "en-gb+grandpa",
                130,
                40,
                "Right, is it on? Good. Sam asked me to tell him about my first job, so here it is. I left school in the summer of nineteen sixty one, when I was fifteen. My first job was as a delivery boy for Mister Whitaker, the butcher on Station Road. I had a big black bicycle with a metal basket on the front, and every morning at half past six I'd load it up with sausages, chops and joints of beef, all wrapped in brown paper, and ride round the whole town. I was paid two pounds ten shillings a week, and I gave half of it to my mother for my keep.",
            ),
            (
                "en-gb+grandpa",
                130,
                40,
                "The worst day was one frosty morning in January. I came down the hill by the church far too fast, the brakes did nothing on the ice, and I went straight into the back of the milk float. There were sausages all over the road and broken milk bottles everywhere. Mister Whitaker docked my wages for a month, but the milkman just laughed and helped me pick everything up.",
            ),
            (
                "en-gb+grandpa",
                130,
                40,
                "On Saturdays I worked in the shop itself, and that's where I learned to cut meat properly. Mister Whitaker was strict, but he was fair. He always said, a clean knife and a clean apron, lad, and the customers will trust you.",
            ),
            (
                "en-gb+grandpa",
                130,
                40,
                "It was through that job that I met your granny, actually. She used to come in every Saturday for her mother's order, and one week I plucked up the courage to ask her to the dance at the Palais on the Friday night. She said yes, as long as I didn't smell of sausages. We danced to Cliff Richard all night, and we'll have been married fifty nine years this June.",
            ),
            (
                "en-gb+grandpa",
                130,
                40,
                "After three years at the butcher's, I got an apprenticeship at the shipyard as an electrician, and I stayed there until I retired. But I still think about that bicycle and that hill by the church, every time it frosts.",
            ),
        ],
    ),
]
