# name, voice, speed, bed, text
SEGMENTS = [
    (
        "seg_2026-03-14_a",
        "en-us+m3",
        150,
        None,
        """
Good morning. For forty one years, the smell of warm bread has drifted down Mill Street every morning before sunrise. That ends on Saturday the twenty eighth, when Hartley's Bakery closes its doors for the last time.
Rosa Hartley took over the shop from her father in nineteen ninety. She told me the decision was not easy. The landlord has asked for nearly three times the old rent when the lease runs out, and at sixty seven, she says, she does not have another twenty years of four a.m. starts in her.
Regulars have been lining up since Monday. Tom Baxter, who has bought the same rye loaf every Friday since nineteen eighty five, said he does not know where he will shop now. Others came for the famous cinnamon knots, which sold out by eight o'clock every day this week.
Rosa is giving the recipe for her sourdough starter to anyone who brings a clean jar. She says the starter is older than most of her customers, and she would rather it lived on in a hundred kitchens than died with the shop.
The two bakers who work with her, Dev and Lucia, are hoping to open a small stall at the Sunday market later this year. The building itself will become a phone repair shop.
Rosa says thank you to everyone who came through the door over four decades. Her last loaves come out of the oven at six on Saturday morning.
""",
    ),
    (
        "seg_2026-03-14_b",
        "en-gb",
        160,
        "brown",
        """
Last night the city council voted five to four to build protected cycle lanes along the whole of Elm Avenue, after a meeting that ran past midnight.
The plan covers two point three miles, from the railway station to the university gates. The lanes will be separated from traffic by a low concrete kerb and planters. The work is expected to cost one point eight million dollars, most of it from a state transport grant.
The most heated part of the debate was about parking. Sixty two parking spaces on Elm Avenue will be removed. Shop owners on the avenue say their customers drive, and that losing the spaces could cost them business. Martin Greaves, who runs a hardware store there, told councillors he feared for his livelihood.
Supporters pointed to the four crashes involving cyclists on the avenue last year, one of them serious. A mother of two, Hannah Cole, said she would let her children ride to school only if the lanes were separated from cars.
Councillor Jim Ortega, who cast the deciding vote, said the city would add a new parking lot behind the post office to replace some of the lost spaces. Construction is due to begin in June and finish before the end of the year.
The four councillors who voted against said the consultation had been rushed, and they will ask for a review in twelve months.
""",
    ),
    (
        "ep12_part1",
        "en+f2",
        145,
        None,
        """
This weekend forty three volunteers spent a cold Saturday at Marsh Lake for the annual winter wetland count.
They walked the shoreline in pairs from first light, with binoculars, telescopes and clipboards, counting every bird on the water and in the reeds. By four in the afternoon they had recorded two thousand one hundred and fourteen birds of fifty eight species.
The highlight was a bittern, a shy brown heron that hides in reed beds and is rarely seen here. The last one at Marsh Lake was noted in twenty nineteen. Organiser Grace Whitfield said the whole group went silent when it stepped out of the reeds.
There were also more than two hundred tundra swans, which arrive from the Arctic each November, and a large flock of teal.
Not all the news was good. The count found only eleven lapwings, compared with over ninety a decade ago. Grace said the drained fields around the lake no longer give them the wet ground they need to feed.
The results go to the national wildlife trust, which uses counts like this one to decide where to protect habitat.
Grace says new volunteers are always welcome, and no experience is needed, only warm boots and patience. The spring count is in April.
""",
    ),
    (
        "ep12_part2",
        "en-us",
        165,
        "music",
        """
Welcome back to the kitchen corner. Today chef Tomasz Nowak is showing us a lentil and carrot soup that he says costs less than five dollars for a pot that feeds six.
Start by chopping one large onion, three carrots and two sticks of celery. Warm a spoonful of olive oil in a big pan and soften the vegetables gently for about ten minutes. Do not let them brown.
Then add two cloves of crushed garlic and a teaspoon each of ground cumin and smoked paprika. Stir for one minute until it smells wonderful.
Now rinse two hundred and fifty grams of red lentils and tip them into the pan with a tin of chopped tomatoes and a litre and a half of vegetable stock. Bring it to the boil, then turn it down and let it simmer for twenty five minutes, until the lentils have collapsed.
Tomasz likes to blend half of it and leave the rest chunky. Finish with the juice of half a lemon, salt and black pepper, and a handful of chopped parsley.
He says it keeps in the fridge for four days and freezes for three months, so it is perfect for busy weeknights. Serve it with crusty bread, or a spoonful of yoghurt on top.
""",
    ),
    (
        "ep12_part3",
        "en-us+f3",
        155,
        None,
        """
The gymnasium at Westbrook Middle School was packed on Thursday evening for the annual science fair, with one hundred and twenty projects on display.
Students from grades six to eight tested everything from which paper towel absorbs the most water to whether plants grow faster with music.
First prize went to twelve year old Priya Nair, who built a water filter from sand, gravel and charcoal inside a cut plastic bottle. She ran muddy pond water through it and measured how cloudy the water was before and after. Her filter removed more than ninety percent of the cloudiness. Priya said she got the idea after reading about villages without clean water.
Second place went to Owen and Leo Fischer, twins who lit a small bulb using a battery made of twelve potatoes and copper coins.
The judges, two engineers from the local power company and a chemistry teacher from the high school, said the standard this year was the best they had seen.
Principal Angela Brooks thanked the parents who volunteered and said the top three projects will go on to the regional competition in the capital next month.
""",
    ),
    (
        "int_0317_take2",
        "en-us+m1",
        170,
        "brown",
        """
This is a special weather bulletin. The national weather service has issued an amber warning for severe gales from eight p.m. on Thursday until noon on Friday.
Winds are expected to reach sixty miles an hour inland and gusts of up to seventy miles an hour on exposed coasts and hills. Heavy bursts of rain will come with the wind, and high tides on Friday morning bring a risk of flooding along the sea front and the harbour road.
People are asked to tie down or bring in garden furniture, bins and trampolines, and to avoid travelling on Thursday night unless it is necessary. Trees may fall and block roads, and power cuts are likely in rural areas. Keep a torch and charged phones at hand.
The coastal road between Port Ellis and Saltby will be closed from six p.m. on Thursday. The ferry to the islands is cancelled on Friday morning.
The council has opened an emergency shelter at the Northfield High School gym for anyone who needs to leave their home. Sandbags are available free at the fire station on Quay Street until Thursday afternoon.
For updates, listen to this station every hour on the hour.
""",
    ),
    (
        "int_0317_take3",
        "en-gb+f4",
        150,
        "music",
        """
Summer is coming, and so is the Riverside Jazz Weekend, now in its fifteenth year.
From the eleventh to the thirteenth of July, the riverbank park will host three stages and more than forty acts. Headlining on Saturday night is the saxophonist Delia Moore, whose last album was nominated for a national award. She grew up just two streets from the park and played her first gig at the festival when she was sixteen.
On Friday, the big band from the city university opens the main stage, and on Sunday afternoon there is a gospel choir and a New Orleans style brass parade along the river path.
Weekend tickets cost thirty five dollars, and children under twelve go free. There is a free workshop on Sunday morning where kids can try out trumpets, drums and double bass with professional musicians.
Festival director Sam Okafor says this year they have added more shade, more water points and more food trucks, after complaints about long queues last summer. There will be twenty food trucks, including vegan and gluten free options.
Bring a blanket and a chair, and leave the car at home: extra buses will run from the station every fifteen minutes.
""",
    ),
    (
        "pkg_0402",
        "en-us+m3",
        160,
        None,
        """
After fourteen months behind scaffolding, the Central Library on King Street reopens to the public next Tuesday.
The eight million dollar renovation has kept the old sandstone front but almost everything inside is new. The ground floor now has a bright children's wing with low shelves, beanbags and a story corner shaped like a tree. Upstairs there are twelve quiet study rooms that can be booked online, and a makerspace with three d printers and sewing machines.
The most talked about change is on the roof: a reading garden with benches, lavender and views across the river. It will be open from May to September, weather permitting.
For the first time, the building has two lifts and step free access at every entrance, something disability groups had campaigned for over many years.
Head librarian Fiona McLeod said the team has moved two hundred and thirty thousand books back onto the shelves in the last three weeks. The temporary branch in the old post office on Bridge Road will close on Saturday.
Anyone who kept their books during the closure should not worry about fines. Fiona says all late fees have been cancelled, and she just wants the books back.
""",
    ),
    (
        "pkg_0405",
        "en+f2",
        155,
        None,
        """
A story with a happy ending now. Biscuit, a three year old border collie who went missing from a farm near Ashford nine days ago, is back home with his family.
Biscuit ran off during a fireworks display on New Year's Eve. His owners, the Patel family, put up posters, searched the woods every evening and shared his photo hundreds of times online.
On Tuesday a farmer thirty kilometres away, near the village of Little Brampton, noticed a thin black and white dog sleeping in his barn among the hay bales. He took him to the vet in town, where a scan of the microchip showed the Patels' phone number.
Ten year old Anya Patel said she cried when she heard his name on the phone. The vet said Biscuit had lost about three kilograms and had a cut on one paw, but was otherwise in good health.
The family thanked the farmer with a basket of cakes and a promise of a visit in the summer.
Animal charities say it is a reminder to keep microchip details up to date, and to keep pets indoors when fireworks are expected.
""",
    ),
    (
        "callin_0409",
        "en-us+f3",
        150,
        None,
        """
Our next caller on the gardening hour is Margaret from Fernhill. Margaret, what's your question?
Hello, yes. I grow tomatoes in my greenhouse, and this year the lower leaves have gone yellow with brown spots, and now it's spreading up the plants. What am I doing wrong?
Thank you Margaret. That sounds very much like early blight, a fungus that lives in the soil and splashes up onto the leaves. First, pick off every affected leaf and put them in the bin, not on the compost heap.
Then water at the base of the plant, in the morning, and never over the leaves. Wet leaves overnight are what the fungus loves. Open the greenhouse door on warm days, because damp still air helps it spread.
Next year, do not grow tomatoes in the same soil. Move them to fresh grow bags or change the soil in the beds, and leave a bit more space between plants.
A tip from many listeners: plant basil or marigolds between the tomatoes. They will not cure the blight, but they bring in helpful insects and the basil is lovely with the fruit.
And you mentioned slugs earlier. A shallow dish of beer sunk into the ground works well, or a ring of crushed eggshells around each stem.
""",
    ),
    (
        "seg_2026-04-11_a",
        "en-gb",
        165,
        "brown",
        """
Eight thousand runners crossed the start line on Harbour Bridge this morning for the twenty second city marathon, under clear skies and a temperature that climbed to twenty four degrees by noon.
The men's race was won by Samuel Otieno in two hours, eleven minutes and forty five seconds, a new course record by nearly a minute. The women's winner was local school teacher Claire Dunmore, who trains before work along the canal and finished in two hours thirty one.
But the loudest cheers of the day were for Walter Price, who at seventy eight is the oldest finisher this year. He has run every one of the twenty two races and says he will keep going until they stop him.
The heat made it a hard day. Medical teams treated around one hundred and forty runners, most for dehydration, and six were taken to hospital as a precaution. Organisers had added extra water stations every three kilometres after last year's race.
Runners raised more than six hundred thousand dollars for charity, including the children's hospital and a local food bank.
Roads in the city centre will reopen by four p.m. The tram service on the coast line is running a reduced timetable until this evening.
""",
    ),
    (
        "ep13_part1",
        "en-us+m1",
        155,
        None,
        """
Islanders on Kerrow say they feel abandoned after the ferry company announced it will cut daily crossings from eight to five from the first of May.
The company says it lost two million dollars last year and that fuel prices and a shortage of crew leave it no choice. The first boat of the morning will now leave the island at seven fifteen instead of six, and the last return crossing will be at six thirty in the evening.
For many of the island's nine hundred residents, that changes everything. Nurse Bridget Kelly works early shifts at the hospital on the mainland. With the new timetable, she says she cannot get to work on time, and she may have to rent a room in town during the week.
The island school's older pupils also cross each day to the secondary school, and parents worry about the long wait in the afternoon.
A petition asking the regional government to subsidise the service has gathered more than three thousand signatures in a week. Local shop owner Donal Reid says without a proper ferry, young families will leave and the island will slowly die.
The transport minister has agreed to meet island representatives next Wednesday.
""",
    ),
    (
        "ep13_part2",
        "en-gb+m3",
        145,
        None,
        """
I started keeping bees about six years ago, after I retired from the post office. I had two hives at first, and now I have eleven, on the edge of the orchard behind my cottage.
People think it is all about the honey, and yes, last summer I took about sixty jars from the strongest colonies. But mostly it is watching them. On a warm morning you can sit by the hive entrance and see them coming back with their legs full of pollen, orange from the dandelions, yellow from the oilseed fields.
The hardest part is the varroa mite. It is a tiny red parasite that feeds on the young bees, and if you do nothing it can wipe out a colony in two winters. I check the boards under the hives every week in late summer and treat them in the autumn.
I lost three colonies in the cold spring two years ago. That was heart breaking. You open the hive and there is just silence.
My advice to anyone starting is to join a local association, find a mentor, and wear the suit even when you think you don't need it. I learned that one the hard way, stung on the eyelid in my first week.
""",
    ),
]
