"""Person-like words in file names: common given names, and the words a file name is made of.

A file name such as ``jane_doe_xray.png`` or ``Scan_Smith_John.pdf`` carries a patient's name when
two adjacent words look like a first and a last name: one is a common given name and the other is
a word that is not one of the document, imaging or upload words file names are built from. Given
names that are also ordinary words, months or places (``will``, ``grace``, ``april``, ``austin``)
are left out, so ``will_form.pdf`` or ``april_report.pdf`` survive.
"""

from __future__ import annotations

__all__ = ["FILE_WORDS", "GIVEN_NAMES", "SIGNATURE_WORDS", "US_STATES"]

# File-name words after which the next two words are the signer's name: "signature_jane_doe.png".
SIGNATURE_WORDS = frozenset({"signature", "sig", "firma", "autograph"})

# Frequent US given names (Social Security Administration lists), minus common English words.
GIVEN_NAMES = frozenset(
    {
        "aaron", "abigail", "adam", "adrian", "aidan", "alan", "albert", "alejandro", "alex",
        "alexander", "alexandra", "alexis", "alice", "alicia", "alison", "allison", "alyssa",
        "amanda", "amelia", "amy", "ana", "andrea", "andrew", "angela", "anna", "anne", "anthony",
        "antonio", "arthur", "ashley", "barbara", "benjamin", "betty", "beverly", "brandon",
        "brenda", "brian", "brittany", "bruce", "bryan", "camila", "carl", "carlos", "carol",
        "carolyn", "catherine", "charles", "cheryl", "chloe", "christian", "christina",
        "christine", "christopher", "cynthia", "daniel", "david", "deborah", "debra", "denise",
        "dennis", "diana", "diane", "donald", "donna", "dorothy", "douglas", "dylan", "edward",
        "elena", "elijah", "elizabeth", "emily", "emma", "eric", "ethan", "evelyn", "frances",
        "gabriel", "gary", "george", "gloria", "gregory", "hannah", "harold", "heather", "helen",
        "henry", "isabella", "jacob", "james", "janet", "janice", "jane", "jason", "jeffrey",
        "jennifer", "jeremy", "jessica", "joan", "john", "jonathan", "jose", "joseph", "joshua",
        "juan", "judith", "julia", "julie", "justin", "karen", "katherine", "kathleen", "kathryn",
        "kayla", "keith", "kelly", "kenneth", "kevin", "kimberly", "laura", "lauren", "lawrence",
        "linda", "lisa", "logan", "lucas", "luis", "margaret", "maria", "marie",
        "marilyn", "martha", "mary", "matthew", "megan", "melissa", "mia", "michael", "michelle",
        "mohammed", "muhammad", "nancy", "natalie", "nathan", "nicholas", "nicole", "noah",
        "olivia", "pamela", "patricia", "patrick", "paul", "peter", "priya", "rachel", "raymond",
        "rebecca", "richard", "robert", "roger", "ronald", "ryan", "samantha", "samuel", "sandra",
        "sara", "sarah", "scott", "sean", "sharon", "shirley", "sofia", "sophia", "stephanie",
        "stephen", "steven", "susan", "teresa", "theresa", "thomas", "timothy", "tyler",
        "vincent", "walter", "wei", "william", "zachary",
        # Short forms people sign notifications and messages with.
        "mike", "tom", "jim", "joe", "dave", "steve", "chris", "matt", "tony", "kate", "katie",
        "jenny", "liz", "beth", "ben", "greg", "jeff", "rob", "andy", "becky", "cathy", "kathy",
        "debbie", "patty", "peggy", "sue", "tim", "danny", "jimmy", "johnny", "tommy", "bobby",
        "billy", "jenn", "jen", "jess", "josh", "nate", "zach", "abby", "maddie", "ellie",
        # Frequent Spanish given names that are not also ordinary words.
        "alejandra", "beatriz", "daniela", "eduardo", "fernanda", "fernando", "francisco",
        "gabriela", "guadalupe", "hector", "javier", "jesus", "jorge", "leticia", "lorena",
        "manuel", "mariana", "miguel", "paola", "pedro", "rafael", "raul", "ricardo", "roberto",
        "sergio", "valeria", "veronica", "ximena", "yolanda", "marisol", "joaquin", "tomas",
        # Frequent given names in the UK, Ireland, Canada, Australia and New Zealand, and of
        # families from South Asia, the Middle East and Africa living there.
        "maya", "jonah", "leah", "walt", "rosalind", "siobhan", "ahmed", "carla", "janelle",
        "theodore", "felicity", "liam", "oliver", "lucy", "zoe", "aisha", "fatima", "omar",
        "hamza", "yusuf", "priyanka", "arjun", "rahul", "ravi", "neha", "pooja", "kenji",
        "hiroshi", "yuki", "ingrid", "sven", "lars", "anya", "katya", "olga", "ivan", "dmitri",
        "nadia", "leila", "layla", "zara", "isla", "freya", "harriet", "imogen", "niamh", "aoife",
        "ciara", "declan", "eoin", "callum", "rory", "hamish", "fiona", "kirsty", "bronwyn",
        "keisha", "jamal", "darnell", "malik", "marcus", "derek", "travis", "trevor", "kyle",
        "darren", "craig", "gavin", "gareth", "rhys", "owen", "evan", "ian", "colin", "neil",
        "graham", "nigel", "tracy", "tracey", "kristen", "erin", "bethany", "brianna", "hailey",
        "madeline", "claire", "clara", "eloise", "matilda", "harry", "alfie", "archie", "oscar",
        "luca", "marco", "giulia", "francesca", "chiara", "lucia", "ines", "greta", "heidi",
        "klaus", "pieter", "anselm", "quentin", "felipe", "diego", "santiago", "mateo",
        "valentina", "isabel", "gustavo", "rodrigo", "andres", "ramon", "ignacio", "yasmin",
        "samira", "tariq", "bilal", "imran", "ayesha", "zainab", "chidi", "chidinma", "ngozi",
        "emeka", "tunde", "kwame", "kofi", "thabo", "sipho", "mei", "ahmad", "mohammad",
        "jake", "josie", "ellen", "eleanor", "abdul", "yosef", "miriam", "esther",
        "ruth", "naomi", "tobias", "elias", "jasper", "silas", "ezra", "hugo", "felix", "nina",
        "anika", "tanvi", "ishaan", "aarav", "vikram", "sunita", "anjali", "meera", "deepa",
    }
)  # fmt: skip

# Words file names of uploads, scans and photos are made of: never the other half of a name.
FILE_WORDS = frozenset(
    {
        "scan", "scans", "scanned", "photo", "photos", "pic", "pics", "picture", "image", "images",
        "img", "xray", "ray", "mri", "ct", "ekg", "ecg", "ultrasound", "rash", "wound", "report",
        "reports", "result", "results", "lab", "labs", "test", "tests", "card", "insurance",
        "front", "back", "left", "right", "id", "doc", "docs", "document", "form", "forms",
        "consent", "referral", "letter", "note", "notes", "summary", "record", "records", "chart",
        "upload", "uploads", "file", "files", "copy", "final", "draft", "signed", "page", "new",
        "old", "bill", "invoice", "receipt", "claim", "rx", "prescription", "med", "meds", "list",
        "profile", "avatar", "selfie", "headshot", "thumb", "thumbnail", "small", "large",
        "medium", "logo", "icon", "banner", "hero", "background", "bg", "before", "after",
        "the", "and", "for", "of", "with", "from", "to", "my", "visit", "discharge", "intake",
        "history", "imaging", "vaccine", "vaccination", "immunization", "covid", "blood", "urine",
        "eye", "skin", "chest", "knee", "hand", "foot", "arm", "leg", "head", "dental", "teeth",
        "sig", "firma", "firmado", "firmada", "consentimiento", "receta", "informe",
        "resultados", "packet", "ref", "outbound", "inbound", "batch", "export",
        "stmt", "statement", "statements", "eob", "era", "remit", "remittance", "eft", "ach",
    }
)  # fmt: skip


#: The fifty states, DC and Puerto Rico, lower-case ("new york", "district of columbia").
US_STATES = frozenset(
    {"alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
     "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas",
     "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota",
     "mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey",
     "new mexico", "new york", "north carolina", "north dakota", "ohio", "oklahoma", "oregon",
     "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas",
     "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming",
     "district of columbia", "puerto rico"}
)  # fmt: skip
