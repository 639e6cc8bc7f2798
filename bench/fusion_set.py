"""The fusion benchmark's own evaluation set: voice memos to synthesise, and the queries, all written for it.

Nothing here appears in examples/ or in the tests. Each memo has a paraphrase query (other words for what it
says) and an exact quote (3-4 consecutive words of it). The sound queries name ESC-10 classes in words that
appear in no file name and no transcript; the sample queries name Sonic Pi categories, whose file names say
what they are (so both channels can know them); the absent queries ask for things the library does not hold.
"""

# (what the memo says, a paraphrase query, an exact quote)
MEMOS = [
    (
        "Remember to renew the car insurance before the end of March, the premium went up again.",
        "reminder about paying for vehicle cover",
        "renew the car insurance",
    ),
    (
        "The boiler made a loud knocking noise this morning, call the heating engineer on Monday.",
        "the water heater is banging and needs a repair person",
        "loud knocking noise",
    ),
    (
        "Pick up two bags of potting compost and some slug pellets from the garden centre.",
        "shopping list for the plant nursery",
        "slug pellets from the",
    ),
    (
        "Grandma's birthday party is on the twelfth, bring the photo album and a lemon cake.",
        "my grandmother's celebration and what dessert to take",
        "photo album and a",
    ),
    (
        "The flight to Lisbon leaves at six fifteen from terminal two, check in online tonight.",
        "when does my plane to Portugal depart",
        "leaves at six fifteen",
    ),
    (
        "Idea for the novel: the lighthouse keeper finds a letter inside a bottle of ink.",
        "plot idea about someone who looks after a coastal beacon",
        "the lighthouse keeper finds",
    ),
    (
        "The quarterly sales figures are down eight percent, mostly because of the northern region.",
        "revenue fell this quarter",
        "quarterly sales figures",
    ),
    (
        "Order more printer toner, the office is completely out of black cartridges.",
        "we ran out of ink for the printer",
        "black cartridges",
    ),
    (
        "The vet said the puppy needs her second vaccination in three weeks.",
        "when is the young dog's next jab",
        "second vaccination in three",
    ),
    (
        "Band practice moved to Thursday evening, bring the new set list and spare strings.",
        "rehearsal was rescheduled",
        "spare strings",
    ),
    (
        "The landlord will inspect the flat on Friday, tidy the kitchen and fix the curtain rail.",
        "the owner of the apartment is coming to check it",
        "fix the curtain rail",
    ),
    (
        "Recipe note: add the cardamom after the onions have softened, not before.",
        "when to put the spice into the curry",
        "add the cardamom after",
    ),
    (
        "The children's swimming lessons start again in September at the leisure centre.",
        "when do the kids go back to the pool",
        "swimming lessons start again",
    ),
    (
        "I parked on level four of the multistorey car park, row G, near the lifts.",
        "where did I leave the car",
        "level four of the",
    ),
    (
        "The library books are overdue, return them before the fine gets any bigger.",
        "borrowed books that are late",
        "library books are overdue",
    ),
    (
        "Ask the accountant whether the home office expenses can be claimed this year.",
        "question for the person who does my taxes",
        "home office expenses",
    ),
    (
        "The hiking trail to the waterfall is closed after the landslide, take the ridge path instead.",
        "the walking route is blocked",
        "take the ridge path",
    ),
    (
        "Book a table for four at the Italian restaurant on Saturday at half past seven.",
        "dinner reservation for the weekend",
        "table for four at",
    ),
    (
        "The tomato seedlings on the windowsill need repotting into bigger containers.",
        "the young plants have outgrown their pots",
        "need repotting into bigger",
    ),
    (
        "My passport expires in November, send the renewal form with two new photos.",
        "travel document running out",
        "my passport expires in",
    ),
    (
        "The wedding speech should mention how they met at the climbing wall.",
        "what to say in the toast for the couple",
        "met at the climbing",
    ),
    (
        "Cancel the gym membership, the contract allows it with one month's notice.",
        "stop paying for the fitness club",
        "cancel the gym membership",
    ),
    (
        "The recycling collection changed to every second Wednesday starting next month.",
        "new schedule for the bins",
        "every second wednesday",
    ),
    (
        "Chapter three needs a better ending, maybe the detective misses the train on purpose.",
        "draft note about fixing a part of my mystery story",
        "misses the train on",
    ),
    (
        "The dentist — no, the optician — wants to check my eyes again in six months.",
        "follow up appointment for my vision",
        "check my eyes again",
    ),
    (
        "Tell Sam the barbecue is cancelled because of the storm warning.",
        "the cookout is off due to bad weather",
        "the barbecue is cancelled",
    ),
    (
        "The spare house key is hidden under the blue flower pot by the back door.",
        "where is the extra key",
        "under the blue flower",
    ),
    (
        "Meeting notes: the client wants the logo in green and the launch pushed to May.",
        "what the customer asked for in the branding discussion",
        "the logo in green",
    ),
    (
        "Buy batteries for the smoke alarm, it has been beeping every few minutes.",
        "the fire detector keeps chirping",
        "batteries for the smoke",
    ),
    (
        "The piano tuner can come on the twentieth between nine and eleven.",
        "appointment to fix the instrument's pitch",
        "the piano tuner can",
    ),
    (
        "Our train was delayed by forty minutes because of a signal failure near Reading.",
        "why the railway journey was late",
        "delayed by forty minutes",
    ),
    (
        "The bathroom tap is dripping again, buy a new washer from the hardware shop.",
        "leaking faucet repair",
        "bathroom tap is dripping",
    ),
    (
        "Homework for Tuesday: read pages forty to sixty and answer the questions at the end.",
        "school assignment due next week",
        "read pages forty to",
    ),
    (
        "The electricity bill doubled over winter, compare tariffs before the contract renews.",
        "power costs went up a lot",
        "the electricity bill doubled",
    ),
    (
        "Thank the neighbours for feeding the cat while we were away in Scotland.",
        "gratitude to the people next door for looking after our pet",
        "feeding the cat while",
    ),
    (
        "The conference badge and the hotel booking confirmation are in the blue folder.",
        "where are the event documents",
        "the conference badge and",
    ),
    (
        "Start the sourdough starter on Wednesday so the bread is ready for Sunday lunch.",
        "when to begin preparing the fermented dough",
        "the sourdough starter on",
    ),
    (
        "The car's tyre pressure warning came on, check the front left wheel.",
        "dashboard light about the wheels",
        "tyre pressure warning came",
    ),
    (
        "Send the invoice for the translation job before the end of the week.",
        "billing the client for the language work",
        "invoice for the translation",
    ),
    (
        "The bird feeder was empty again, the squirrels are getting into it.",
        "animals stealing the seed in the garden",
        "the squirrels are getting",
    ),
    (
        "Remind me to water the orchid once a week with lukewarm water only.",
        "how to take care of the flowering houseplant",
        "water the orchid once",
    ),
    (
        "The new lawnmower arrives on Thursday, someone needs to be home to sign for it.",
        "delivery of the grass cutting machine",
        "the new lawnmower arrives",
    ),
    (
        "The museum is free on the first Sunday of every month, take the kids to see the dinosaurs.",
        "day out to look at fossils at no cost",
        "free on the first",
    ),
    (
        "Lesson learned: always back up the laptop before installing a system update.",
        "note to self about saving my computer files",
        "back up the laptop",
    ),
    (
        "The choir concert raised nine hundred pounds for the children's hospital.",
        "how much money the singing event made for charity",
        "raised nine hundred pounds",
    ),
    (
        "The fence panel blew down in the wind, the insurance might cover the repair.",
        "storm damage in the garden boundary",
        "fence panel blew down",
    ),
]

VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us+f3", "en-gb+f2", "en-us+m3"]
SPEEDS = [115, 125, 135, 150, 165]

# the stand-in sound channel's class for each query (ESC-10 labels); no file name or transcript holds these words
SOUND_QUERIES = {
    "a hound yelping": "dog bark",
    "a puppy yapping": "dog bark",
    "a downpour": "rain",
    "water pouring from the sky": "rain",
    "surf crashing onto the shore": "sea waves",
    "the ocean": "sea waves",
    "an infant wailing": "baby cry",
    "a newborn sobbing": "baby cry",
    "the steady tick of a timepiece": "clock tick",
    "a ticking clock": "clock tick",
    "somebody sneezing": "person sneeze",
    "an achoo": "person sneeze",
    "rotor blades of an aircraft overhead": "helicopter",
    "a chopper flying past": "helicopter",
    "a motor saw cutting timber": "chainsaw",
    "logging with a power saw": "chainsaw",
    "a cockerel at dawn": "rooster",
    "a farmyard bird crowing": "rooster",
    "logs crackling in a fireplace": "fire crackling",
    "a campfire popping": "fire crackling",
}

# Sonic Pi categories: their file names say what they are, and the stand-in knows how they sound
SAMPLE_QUERIES = {
    "tabla drums": "tabla",
    "a hi-hat": "hi-hat",
    "a bass drum kick": "bass drum",
    "vinyl scratches": "vinyl",
    "an ambient pad": "ambient",
    "a glitchy sound": "glitch",
    "electric guitar": "guitar",
    "a snare hit": "snare drum",
    "a ride cymbal": "ride cymbal",
    "a drum loop": "loop",
}

# Nothing in the library is any of these (checked against every file name, transcript and class). Some share a
# word with a file name ("a cat meowing" and the hi-hat sample "hat_cats"), as happens in real libraries.
ABSENT_QUERIES = [
    "a cat meowing",
    "a harmonica melody",
    "applause in a theatre",
    "a car horn honking",
    "typing on a keyboard",
    "a vacuum cleaner",
    "footsteps on gravel",
    "a frog croaking",
    "a police siren",
    "bubbling water in a kettle",
    "a goat bleating",
    "a tennis match",
    "a motorbike revving",
    "a fax machine",
    "children playing in a playground",
    "wolves howling",
    "an ice cream van jingle",
    "a lecture about quantum physics",
    "a podcast about ancient Rome",
    "someone talking about their holiday in Japan",
    "the football results from last night",
    "instructions for assembling a bookshelf",
]
