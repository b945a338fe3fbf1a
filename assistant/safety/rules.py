"""The guard's readable rules: message normalisation (folding, slang, typos) and the patterns
in English and French that name what must never be missed or misread.

The rules are overrides and evidence: assistant/safety/guardrails.py decides with them and
the classifier together, and staff see which rule fired. The classifier also reads which
rules fired, as features.
"""

from __future__ import annotations

import re

from assistant.text.language import fold

# -- text normalisation ----------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")

# Slang and frequent misspellings mapped to one spelling, so the patterns stay short.
ALIASES = {
    "caillou": "crack", "cailloux": "crack", "galette": "crack", "galettes": "crack",
    "kecra": "crack", "krack": "crack", "crak": "crack", "crac": "crack", "cracks": "crack",
    "rocks": "rock", "caillasse": "crack", "coc": "cocaine", "coke": "cocaine", "cc": "cocaine",
    "cocaina": "cocaine", "blanche": "cocaine", "came": "drogue", "drogues": "drogue",
    "drugs": "drug", "dope": "drug", "gear": "drug", "stuff": "drug", "matos": "materiel",
    "keufs": "police", "keuf": "police", "flics": "police", "flic": "police", "condes": "police",
    "cops": "police", "cop": "police", "feds": "police", "bac": "police", "poulets": "police",
    "5-0": "police", "schmitts": "police", "schmitt": "police", "policiers": "police",
    "pecho": "choper", "chopper": "choper", "acheter": "acheter", "achete": "acheter",
    "im": "i am", "i'm": "i am", "ive": "i have", "cant": "can not", "cannot": "can not",
    "wont": "will not", "isnt": "is not", "doesnt": "does not", "dont": "do not",
    "hes": "he is", "shes": "she is", "u": "you", "ur": "your", "pls": "please", "plz": "please",
    "wanna": "want to", "gonna": "going to", "gotta": "have to", "bf": "boyfriend",
    "gf": "girlfriend", "bro": "brother", "mum": "mom", "mom": "mom", "chui": "je suis",
    "jsuis": "je suis", "jveux": "je veux", "jpeux": "je peux", "jai": "j ai", "chai": "je sais",
    "pote": "ami", "potes": "amis", "copain": "ami", "copine": "amie", "mec": "ami",
    "od": "overdose", "oding": "overdosing", "odd": "overdose", "surdose": "overdose",
    "kiffer": "kiffer", "kiff": "kiffer", "kif": "kiffer",
    "mourrir": "mourir", "mouir": "mourir", "respir": "respire", "respirre": "respire",
}

# Words worth correcting when misspelled by one letter (tokens of 6+ letters only, so that
# short common words are never "corrected" into keywords).
LEXICON = [
    "breathing", "breathe", "breath", "unconscious", "unresponsive", "collapsed", "seizure",
    "seizures", "convulsing", "convulsions", "overdose", "overdosing", "poisoned", "poisoning",
    "swallowed", "suicide", "suicidal", "respire", "respirer", "inconscient", "inconsciente",
    "evanoui", "evanouie", "reveille", "convulse", "convulsions", "poitrine", "cardiaque",
    "mourir", "suicider", "empoisonne", "intoxication", "avaler", "treatment", "addicted",
    "addiction", "methadone", "buprenorphine", "subutex", "instructions", "previous", "prompt",
    "system", "cocaine", "emergency", "police", "dealer", "dealers", "acheter", "vendre",
    "fabriquer", "cuisiner", "recette", "bicarbonate", "ammoniaque", "baking", "cacher",
    "planquer", "fouille", "search", "controle", "arreter", "decrocher", "sevrage", "seringue",
    "seringues", "syringe", "syringes", "needles", "pipes", "naloxone", "consommation",
]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


_CORRECTIONS: dict[str, str] = {}
for _w in LEXICON:
    for _d in _deletes(_w):
        _CORRECTIONS.setdefault(_d, _w)
_LEXICON_SET = set(LEXICON)


def _correct(token: str) -> str:
    """One-edit typo correction towards LEXICON (insertion, deletion or substitution)."""
    if len(token) < 6 or token in _LEXICON_SET:
        return token
    if token in _CORRECTIONS:  # one letter too many
        return _CORRECTIONS[token]
    for d in _deletes(token):  # one letter missing or wrong
        if d in _LEXICON_SET:
            return d
        if d in _CORRECTIONS and len(_CORRECTIONS[d]) == len(token):
            return _CORRECTIONS[d]
    return token


_CONTRACTIONS = [
    (re.compile(p), r) for p, r in (
        (r"\bcan'?t\b", "can not"), (r"\bwon'?t\b", "will not"), (r"\bain'?t\b", "is not"),
        (r"(\w)n't\b", r"\1 not"), (r"\bi'm\b", "i am"), (r"(\w)'re\b", r"\1 are"),
        (r"(\w)'ve\b", r"\1 have"), (r"(\w)'ll\b", r"\1 will"),
    )
]


# French SMS drops the "e" of "je" before a verb: "jcherche", "jsais", "jme" -> "je cherche".
_J_VERB = re.compile(r"^j((?:[bcdfghklmnpqrstvwxz])[a-z]+)$")


def normalise(text: str) -> str:
    """Folded, de-elongated, alias-mapped, typo-corrected tokens joined by single spaces."""
    folded = fold(text)
    folded = re.sub(r"(.)\1{2,}", r"\1\1", folded)  # "heeeelp" -> "heelp"
    for pattern, repl in _CONTRACTIONS:  # don't -> do not, before apostrophes are split
        folded = pattern.sub(repl, folded)
    folded = re.sub(r"(\w)'(\w)", r"\1 \2", folded)  # j'ai -> j ai
    out = []
    for tok in _TOKEN.findall(folded):
        tok = ALIASES.get(tok, _J_VERB.sub(r"je \1", tok))
        out.append(_correct(tok) if " " not in tok else tok)
    return " " + " ".join(out) + " "


# -- rules -----------------------------------------------------------------------------------

DRUG = r"(?:crack|rock|cocaine|freebase|base|drogue|drug|heroin|heroine|speed|meth|mdma)"
SUBJ = r"(?:he|she|they|my \w+|someone|somebody|a \w+|il|elle|mon \w+|ma \w+|quelqu un|i|je)"
CLOSE = (r"(?:friend|mate|brother|sister|son|daughter|husband|wife|partner|boyfriend|"
         r"girlfriend|mom|mother|dad|father|child|kid|cousin|ami|amie|frere|soeur|fils|fille|"
         r"mari|femme|compagnon|compagne|mere|pere|enfant|cousin|cousine|proche|proches)")
BENIGN_OBJECT = (r"(?:pipes?|kits?|kit base|needles?|syringes?|seringues?|naloxone|nyxoid|"
                 r"materiel|equipment|roule|embouts?|filtres?|test|tests|condoms?|preservatifs?)")
HOT_SPOTS = r"(?:stalingrad|chapelle|villette|forceval|riquet|eole|barbes|colline|gare du nord)"

# (kind, name, pattern). Patterns match the normalised text; names are shown to staff.
RULES: list[tuple[str, str, str]] = [
    # emergency: overdose or poisoning in progress
    ("emergency", "not breathing",
     r"(?:not|n t|stopped|stop|can not|hardly|barely|no longer|struggling to) breath"
     r"|(?:ne |n )?respire (?:plus|pas|presque plus|mal)|(?:peut|arrive) (?:plus|pas) a respirer"
     r"|(?:plus|pas) (?:de )?respiration"),
    ("emergency", "unconscious / unresponsive",
     r"unconscious|unresponsive|passed out|(?:will not|can not|does not|not) wak(?:e|ing)"
     r"|collaps|blacked out|turning blue|lips (?:are |went )?blue|blue lips|not moving"
     r"|not responding|(?:will not|does not|is not|not) respond"
     r"|(?:not|n t|stopped) (?:answering|reacting) (?:me|to me|at all)|inconscien"
     r"|perdu connaissance|evanou|(?:se )?reveill?e (?:plus|pas)"
     r"|reagit (?:plus|pas)|repond (?:plus|pas)|dans les pommes|levres (?:sont )?bleues"
     r"|devient bleu|bouge plus|s est effondre"
     r"|foam\w* at (?:the |his |her )?mouth|mousse (?:a|aux) (?:la )?(?:bouche|levres)"),
    ("emergency", "chest pain / heart",
     r"chest (?:pain|hurt|is tight|tight|pressure)|pain in (?:my|his|her) chest|heart attack"
     r"|heart (?:is )?(?:racing|pounding|going crazy|beating (?:really |so )?fast)"
     r"|douleur (?:a la |dans la )?poitrine|mal (?:a la|au) (?:poitrine|coeur)"
     r"|douleur thoracique|crise cardiaque|coeur (?:qui )?(?:bat|s emballe|cogne)"),
    ("emergency", "seizure",
     r"seizure|convuls|fitting|having a fit|shaking (?:all over|uncontrollably)|epilep|twitch"
     r"|jerking|spasm|se raidit|spasmes|eyes (?:rolled|rolling)|yeux (?:revulses|qui roulent)"
     r"|crise d epilepsie|convulse|fait une crise|tremble de partout"),
    ("emergency", "overdose in progress",
     r"overdosing|(?:is|am|having|had|has|just|think|thinks|maybe) (?:an? |had an? )?overdose"
     r"|(?:took|taken|take|smoked|used|did|done|had|snorted|injected) (?:way )?too much"
     r"|too (?:much|many) (?:crack|rock|cocaine|drug|hits|pipes)"
     r"|overdose (?:happening|right now|now|in progress|en cours)|fai\w* (?:une |un )?overdose"
     r"|(?:bebe|enfant|fils|fille|petit|toddler|baby|kid|child|chien|dog|chat|cat)\w* "
     r"(?:\w+ ){0,6}(?:dans sa bouche|in (?:his|her|its|their) mouth)|en overdose|trop (?:pris"
     r"|fume|consomme|tape|pris de)"
     r"|pris trop|fume trop de|(?:prend|pris) (?:beaucoup )?trop"),
    ("emergency", "poisoning",
     r"swallow|poisoned|avale|empoisonn"
     r"|(?:ate|eaten|eat|licked|chewed|mange|mache|leche)\w* (?:\w+ ){0,3}(?:crack|rock|drug"
     r"|drogue|cocaine|pills?|cachets?)"
     r"|intoxiqu|intoxication|a mange (?:du |un |de la )?(?:crack|drogue)"),
    ("emergency", "means of suicide",
     r"(?:high|tall|deep|enough|strong|lethal)\w* (?:\w+ ){0,3}(?:to die|to kill (?:me|myself|you"
     r"|someone)|to not wake up|to never wake up|not to wake up|to end it)"
     r"|(?:assez|suffisamment) (?:\w+ ){0,3}(?:pour (?:mourir|crever|y rester|ne pas|pas) "
     r"(?:se |me )?(?:rater|reveil\w*|mourir)?)|pour (?:pas|ne pas) (?:me |se )?rater"
     r"|(?:ne plus|plus jamais|pas) (?:me |se )?reveil\w*"
     r"|(?:how many|how much|which|what) (?:\w+ ){0,4}(?:to die|to not wake up|to kill myself"
     r"|to end (?:it|my life)|is (?:a )?lethal|would kill me)"
     r"|combien (?:de |d )?(?:\w+ ){0,4}pour (?:mourir|ne (?:plus|pas) (?:me )?reveil\w*|en finir)"
     r"|(?:dose|quantite) (?:mortelle|letale)|lethal dose|painless way"),
    ("emergency", "suicidal intent",
     r"(?:want|going|wish|plan|planning|ready) to (?:die|end it|end my life|kill myself)"
     r"|kill myself|end it all|end my life|take my (?:own )?life|suicid|better off dead"
     r"|done with (?:life|living)|going to jump|jump (?:off|from|in front)|throw myself|hang myself"
     r"|me jeter (?:sous|du|par)|sauter (?:du|par|d un)|me pendre|(?:en peux plus"
     r"|marre) de (?:vivre|la vie)"
     r"|(?:if|wish|when) i (?:was|were|am|d be) (?:dead|gone)|rather be dead|wish i could die"
     r"|better off without me|disappear for (?:ever|good)"
     r"|(?:do not|no) (?:want|reason) to (?:live|be alive|go on)|no point (?:in )?living"
     r"|(?:veux|vais|voudrais|envie de|pense a) (?:mourir|me tuer|en finir|me suicider)"
     r"|me tuer|en finir|suicid|mettre fin a (?:mes jours|ma vie)|me foutre en l air"
     r"|(?:plus|pas) envie de vivre|marre de vivre"),
    # refusal: make, buy, sell, dose for effect, hide, traffic, evade police
    ("refusal", "make drugs",
     r"(?:cook|make|making|prepare|produce|manufactur|convert|turn|base|freebase|whip)"
     r"\w* (?:up )?(?:some |the |my |your |a |into )?(?:own )?(?:crack|rock|freebase|cocaine "
     r"into)|(?:crack|rock) (?:recipe|from (?:cocaine|powder))|how is crack made"
     r"|(?:explain|teach|describe|show|tell)\w* (?:me )?(?:\w+ ){0,3}(?:freebas|cook|making|produc)"
     r"|(?:baking soda|ammonia|bicarbonate|ammoniaque)(?!.*\b(?:danger|risk|health|sante|toxi))"
     r"|(?:crack|rock|caillou) (?:avec|a partir) (?:de )?(?:la |de la )?(?:poudre|cocaine)"
     r"|(?:cuisin|fabriqu|fai|prepar|produi|cui|bas|obten)\w*"
     r" (?:soi meme |moi meme )?(?:du |le |de la |des |un |une |mon |ma )?(?:crack|rock|base)"
     r"(?! users| (?:est|c est))|recette (?:du |de )?(?:crack|base)"
     r"|transformer (?:la |de la )?cocaine"),
    ("refusal", "buy drugs",
     rf"(?:buy|score|cop|purchase|order|scoring|buying|get hold of) (?:some |a |good |cheap )?"
     rf"(?:crack|rock|cocaine|{DRUG}|hits?|bags?)"
     rf"|(?:where|how) (?:can|do|could|to|would|should) (?:i |we |you |one )?(?:buy|score|cop)"
     rf"(?! (?:a |some |new |clean |sterile )?{BENIGN_OBJECT})"
     rf"|(?:get|find|pick up|grab) (?:some |a |good |cheap )?(?:crack|rock|cocaine|drug|hits?)"
     rf"(?! (?:users?|pipes?|kits?|problem|use|addiction|habit|help|free|off|out))"
     rf"|who (?:sells|is selling|deals|do i ask|should i ask|can i ask|to ask)"
     rf"|(?:a qui|aupres de qui|chez qui) (?:je |on |il faut )?(?:demande|achete|prendre)"
     rf"\w*\b(?! (?:de l |d |des |un )?(?:aide|conseils?|soutien|soins))"
     rf"|(?:se|me|nous|s|m) (?:fournir|ravitailler|approvisionner)|supplier|hook me up"
     rf"|(?:acheter|choper|trouver|procurer|avoir|chercher)"
     rf" (?:du |de la |des |un |une |d )?(?:bon |bonne )?(?:crack|rock|cocaine|drogue|pochon)"
     rf"|(?:ou|comment) (?:est ce qu on peut |on peut |je peux |puis je |peut on )?"
     rf"(?:acheter|choper|me procurer|pecho)(?! (?:des |un |une )?{BENIGN_OBJECT})"
     rf"|(?:^ |je cherche |trouver |connais |connait |contacter |appeler )(?:un |le |mon |ton )"
     rf"(?:dealer|dealeur|modou|plug)"
     rf"|(?:buy|acheter) \w* ?(?:at|near|around|a|vers|pres de|du cote de) {HOT_SPOTS}"),
    ("refusal", "dealer contact",
     r"(?:find|contact|call|text|number|phone|meet|know|get|give|gimme|send|share)\w* (?:me )?"
     r"(?:a |of a |for a |the |my |your |to a |with a )?(?:good |reliable )?(?:dealer|plug|modou)"
     r"|(?:dealer|plug|modou)s? (?:s )?(?:number|phone|contact|snap|insta|whatsapp|num|numero|tel)"
     r"|(?:numero|num|tel|telephone|contact|snap|whatsapp|adresse) (?:d un|du|de|de ton|de mon|d)"
     r" (?:dealer|dealeur|modou|plug|vendeur)"
     r"|(?:trouver|contacter|appeler|connais|connait|chercher?|avoir) (?:un |le |ton |mon |des )"
     r"(?:dealer|dealeur|modou|plug|vendeur)s?"),
    ("refusal", "sell or traffic drugs",
     rf"(?:sell|selling|sold|deal|dealing|traffic|trafficking|smuggl|distribut|resell|move)\w*"
     rf" (?:some |my |the |more )?(?:crack|rock|cocaine|{DRUG})"
     r"|(?:start|become|be) (?:a )?(?:dealer|drug dealer)|more customers|get customers"
     r"|(?:vendre|revendre|dealer|trafiquer|livrer|bicrav|charbonn)\w*"
     r" (?:du |de la |des |mon |ma |le |ma |mes |de )?(?:crack|rock|cocaine|drogue|came|base)"
     r"|point de deal|faire le guetteur|(?:ouvrir|tenir|monter) un point"
     r"|trouver des clients"),
    ("refusal", "dose for effect",
     r"(?:better|stronger|longer|best|bigger|harder|more intense) (?:high|rush|buzz|hit)"
     r"|(?:get|stay|feel|be) (?:more |really |very )?(?:high|higher|wasted|fucked up)"
     r"|how (?:much|many) (?:crack|rock|cocaine|hits|grams?|lines?) (?:to|should|for|do)"
     r"|(?:meilleur|meilleure|plus gros|plus grosse) (?:flash|trip|effet|montee|defonce)"
     r"|(?:flash|montee|trip) plus (?:fort|long|intense)|mieux kiffer|kiffer (?:plus|encore)"
     r"|plus (?:fort|longtemps) (?:le |la )?(?:flash|trip)"
     r"|(?:planer|defoncer|perche|explose) (?:plus|encore|mieux|a fond)"
     r"|combien (?:de |d )?(?:crack|rock|cocaine|grammes?|taffes?|lattes?) pour"
     r"|pour (?:etre |me |se )?(?:bien |plus |encore |vraiment )?(?:defonce\w*|planer|perche"
     r"|kiffer|explose|high)|quantite (?:de |d )?(?:crack|rock|cocaine|drogue)"),
    ("refusal", "hide drugs / evade police",
     r"(?:hide|hiding|stash|conceal|smuggle)\w* (?:\w+ ){0,4}(?:from|during|in|before|so|at)"
     r" ?(?:the |a |my )?(?:police|search|raid|customs|dogs|sniffer|patrol|pat down|frisk)"
     r"|(?:hide|hiding|stash|conceal)\w* (?:my |the |some |a )?(?:crack|rock|cocaine|drug|pipe)"
     r"|(?:avoid|evade|escape|dodge|outrun|lose|get away from|trick|fool|beat) (?:the )?"
     r"(?:police|search|raid|drug test|patrol|sniffer)|(?:without|not|never) (?:getting |get |"
     r"being )?(?:caught|busted|arrested|noticed by)|(?:pass|cheat|beat|fool) (?:a |the |my )?"
     r"(?:drug )?(?:test|urine test|piss test)"
     r"|(?:cacher|planquer|dissimuler|planque)\w* (?:\w+ ){0,4}(?:police|fouille|controle"
     r"|douane|chiens|descente)|(?:cacher|planquer|dissimuler) (?:la |le |ma |mon |du |de la "
     r"|mes )?(?:crack|rock|cocaine|drogue|pipe|materiel)|(?:echapper|eviter|semer|esquiver)"
     r" (?:a la |a |aux |la |les |le )?(?:police|controle|fouille|patrouilles?|descente)"
     r"|sans (?:me |se |nous )?faire (?:choper|attraper|prendre|serrer|arreter|griller)"
     r"|(?:what time|when|how often) (?:do|does|are|is) (?:the )?(?:police|patrol|raid)"
     r"|(?:quand|a quelle heure|horaires?) (?:passent |passe )?(?:de )?(?:la |les )?"
     r"(?:police|patrouilles?|rondes?)"),
    # take-over attempts are out of scope (unless they wrap a refusal, which wins)
    ("out_of_scope", "instruction take-over",
     r"ignore (?:all |any |the |your |previous |prior |above |these )*"
     r"(?:instructions|rules|prompt|guidelines|directives)"
     r"|system prompt|(?:your|ta|tes|vos) (?:instructions|prompt|consignes|regles)"
     r"|(?:you are|you re) (?:now|no longer)|developer mode|jailbreak|\bdan\b|act as (?:a |an )"
     r"|pretend (?:to be|you are|you re)|role ?play|(?:oublie|ignore|ignorez|oubliez)"
     r" (?:toutes |tes |les |vos |tout )*(?:instructions|regles|consignes|ce qu on)"
     r"|prompt systeme|tu es (?:maintenant|desormais|a present)|fais comme si tu"
     r"|joue (?:le role|a etre)|new persona|disregard|reveal (?:your|the) (?:prompt|instructions)"
     r"|(?:print|show|repeat|display|affiche|montre|repete) (?:me )?(?:your|the|ton|le|tes|les)"
     r" (?:initial |hidden |secret )?(?:prompt|instructions|consignes|configuration)"),
    # care: looking for help, treatment, a place to go, equipment
    ("care", "looking for help",
     r"(?:need|want|get|getting|find|looking for|seeking|ask for|where (?:can|do) \w+ (?:get|find))"
     r" (?:some |any )?(?:help|support|treatment|rehab|detox|care|a doctor|advice)"
     r"|(?:help|helps) me|(?:stop|quit|get off|get clean|kick|come off|give up)\w* (?:using |"
     r"smoking |taking |doing )?(?:crack|rock|cocaine|drug|it)"
     r"|(?:want|trying|try|need|help|how) to (?:stop|quit|get clean|get sober|give up|cut down)"
     r"|rehab|detox|methadone|subutex|buprenorph|csapa|caarud|drogues info service"
     r"|addiction (?:centre|center|service|clinic|doctor|specialist|counsel)"
     r"|(?:talk|speak) to (?:someone|somebody)|someone to talk to|i am addicted|hooked on"
     r"|(?:besoin|cherche|demander|trouver|obtenir) (?:d |de l |de |un |une )?"
     r"(?:aide|soins|soutien|medecin|suivi|accompagnement)|aidez moi|aide moi|m aider"
     r"|(?:arreter|decrocher|m en sortir|me sortir|sortir de|me soigner|lacher|sevrer)"
     r"|sevrage|desintox|cure|je suis accro|(?:ou|qui) (?:aller|m adresser|appeler|parler)"
     r"|parler a quelqu un|ou (?:trouver|avoir|obtenir) (?:de l )?aide"
     r"|(?:how (?:can|do|to) (?:i |we )?help|comment aider) (?:a |my |un |une |mon |ma )?\w+"
     r"|centres? (?:de soins|d addictologie|de sevrage)|a qui (?:je peux |on peut )?m adresser"
     r"|(?:numero|ligne|quelqu un) (?:\w+ )?pour (?:parler|en parler|m aider|de l aide)"
     r"|who (?:can|should|do|could) (?:i|we) (?:call|contact|talk to|turn to)|qui (?:contacter"
     r"|appeler)"
     r"|(?:clinic|centre|center|doctor|service|program|place)\w* (?:that|which|who|to) "
     r"(?:helps?|treats?|takes?|care)"
     r"|parler de (?:ma|mon) (?:consommation|addiction|probleme)"),
    ("care", "safer use",
     r"(?:use|smoke|using|smoking|consume)\w* (?:\w+ ){0,2}(?:more )?(?:safely|safer)"
     r"|(?:moins de|reduire les|limiter les) risques|reduction des risques|harm reduction"
     r" (?:service|centre|center|program)|(?:test|check)\w* (?:my |the |our )?(?:drug|crack|rock)"),
    ("care", "someone close uses",
     rf"(?:my|mon|ma|mes) {CLOSE}\w* (?:\w+ ){{0,3}}(?:is using|uses|smokes|is on|addicted|takes"
     rf"|is hooked|smoking|using|fume|consomme|prend|est accro|touche|tombe dans|is doing)"),
    ("care", "harm-reduction equipment",
     r"(?:clean|sterile|new|free|safe|safer) (?:crack )?(?:pipes?|kits?|equipment|needles?"
     r"|syringes?|works|supplies)|(?:get|find|buy) (?:a |some |new |free )?(?:crack )?pipes?"
     r"|pipes? (?:a crack )?(?:propres?|neuves?|gratuites?|sterile)"
     r"|materiel (?:sterile|propre|de consommation|de reduction|neuf|gratuit)"
     rf"|(?:get|find|buy|obtain|give out|hand out|where)\w* (?:\w+ ){{0,3}}{BENIGN_OBJECT}"
     rf"|(?:trouver|avoir|obtenir|acheter|choper|distribu|donne)\w* (?:\w+ ){{0,3}}"
     rf"{BENIGN_OBJECT}"),
    ("care", "place to go",
     r"(?:where|somewhere|place) (?:can i |i can |to |do i |where i can )?"
     r"(?:sleep|shower|eat|stay|rest|use safely|smoke safely|go)"
     r"|(?:ou|endroit pour) (?:je peux |on peut |puis je )?(?:dormir|me doucher|manger|me poser"
     r"|consommer"
     r"|fumer) |(?:can i|may i|could i|est ce que je peux|je peux) (?:go|aller|use|smoke|fumer)"
     r" (?:to |at |in |a la |dans la )?(?:the )?(?:\w+ )?(?:halte|salle|room|scmr)"),
]

# Words that make a message clearly about the assistant's subject (a "pass" anchor).
SCOPE = re.compile(
    r" (?:crack|rock|cocaine|drogue|drug|toxico\w*|addict\w*|usagers?|users?|consommateurs?|paris"
    r"|parisien\w*|hidalgo|castex|stalingrad|eole|forceval|riquet|villette|chapelle|police"
    r"|prefecture|prefet|plan|inserm|halte|hsa|scmr|shoot|consumption|consommation|mayor|maire"
    r"|care|soins?|treatment|traitement|health\w*|sante|hospital\w*|hopital\w*"
    r"|mairie|arrondissement|\d+(?:e|th|eme)|government|gouvernement|minist\w*|darmanin"
    r"|residents?|riverains?|neighbou?rs?|voisins?|overdose\w*|harm|risques|caarud|csapa"
    r"|methadone|gaia|lariboisiere|strasbourg|argos|dealers?|trafi\w*|charonnes|dagnaud"
    r"|cour des comptes|mildeca|ars|sdf|homeless|camp\w*|square|quartier|neighbou?rhood"
    r"|pipes?|kits?|salles?|rooms?|squat\w*|mobilisation|policy|politique|violence|nuisances?"
    r"|safety|securite|insecurite|prevention|sante|health|hospital|hopital) ")

# Words about the policy subject: with no rule fired, these pass straight to retrieval.
POLICY = re.compile(
    r" (?:hidalgo|castex|plan|inserm|prefecture|prefet|cour des comptes|mairie|maire|mayor"
    r"|government|gouvernement|minist\w*|stalingrad|eole|forceval|riquet|villette|chapelle"
    r"|police|riverains?|residents?|arrondissement|\d+(?:e|th|eme)|charonnes|dagnaud|mildeca"
    r"|ars|policy|politique|opposition|droite|gauche|law|loi|audit|letter|lettre|camp|square"
    r"|associations?|neighbou?rhood|quartier|strasbourg|experiment\w*|experimentation) ")

# Drug words: a message with one of these is never "unrelated".
DRUG_CORE = re.compile(
    r" (?:crack|rock|cocaine|drogue|drug|toxico\w*|addict\w*|addiction|usagers?|users?|overdose"
    r"|halte|scmr|shoot|consommation|consumption|consomme\w*|pipes?|fume\w*|smok\w*) ")

# Unrelated requests (only when no drug word is present).
OFF_TOPIC = re.compile(
    r"\b(?:weather|meteo|temps (?:fera|qu il fait)|poem|poeme|song|chanson|joke|blague|homework"
    r"|devoirs|recipe|recette|cook (?:pasta|dinner)|football|soccer|champions league|coupe du monde"
    r"|match|restaurant|netflix|series?|film|movie|passport|passeport|billet|train ticket"
    r"|translate|tradui\w*|cover letter|lettre de motivation|capital of|capitale|calories|pizza"
    r"|crepes?|haiku|relativit\w*|python|javascript|code|forfait|workout|tour eiffel|eiffel"
    r"|louvre|plot of|resume|summar\w*|les miserables|versailles|directions to|wifi|bitcoin"
    r"|how (?:do i |to |can i )?get to|comment aller a|story about|histoire sur)")

# The subject's own places, actors and institutions: a message naming one is about the
# subject unless it is sure to be something else.
NAMED = re.compile(
    r" (?:hidalgo|castex|darmanin|stalingrad|eole|forceval|riquet|villette|chapelle|prefecture"
    r"|prefet|mildeca|charonnes|dagnaud|cour des comptes|inserm|lariboisiere|gaia|halte|scmr"
    r"|salles? de (?:shoot|consommation)|consumption rooms?|plan crack|crack plan) ")

# Someone asking for themselves or telling the assistant to do something: first and second
# person, and the imperatives of a request. A question with none of these asks about the world
# ("what is the average street price of a rock in Paris?"), which a refusal must be surer of.
PERSONAL = re.compile(
    r" (?:i|me|my|mine|myself|we|us|our|you|your|je|j|me|m|moi|mon|ma|mes|on|nous|notre|nos"
    r"|tu|te|t|toi|ton|ta|tes|vous|votre|vos|give|tell|show|explain|teach|help|write|list"
    r"|describe|pretend|imagine|act|donne|dis|explique|montre|apprends|ecris|decris|aide"
    r"|imagine|fais|liste|let s|lets|wanna|gimme|plz|please|stp|svp) ")

# Questions that ask for a count or a date are questions of fact, whatever they are about:
# "how many reception places are open in the 18th?" is not a request for a place.
FACTUAL_QUESTION = re.compile(
    r"^ (?:\w+ ){0,3}(?:how many|how much did|how much does the|what number|combien|quand|when"
    r"|what year|since when|depuis quand|en quelle annee|a quelle date|what date|in which year)\b")

# Topic words for choosing care-directory entries.
TOPICS: list[tuple[str, str]] = [
    ("suicide", r"suicid|mourir|die |end it|kill myself|me tuer|en finir|vivre|live "),
    ("poisoning", r"swallow|poison|avale|intox|empoison|antipoison"),
    ("halte", r"halte|salle|room|scmr|shoot|use safely|smoke safely|consommer|fumer "),
    ("equipment", r"pipe|kit|needle|syringe|seringue|materiel|equipment|roule|naloxone|works "),
    ("family", rf" (?:my|mon|ma|mes) {CLOSE}"),
    ("stop", r"stop|quit|arreter|decroch|sortir|sevr|get clean|give up|detox|desintox|cure"),
    ("treatment", r"treatment|rehab|methadone|subutex|buprenorph|doctor|medecin|soins|soigner"),
    ("deaf", r"deaf|sourd|malentend|hard of hearing"),
]

# "kind: name" of every rule, in order: the classifier's rule features follow this order.
RULE_NAMES = [f"{kind}: {name}" for kind, name, _ in RULES]

# Matches start on a word boundary so stems ("suicid", "collaps") never fire mid-word.
_COMPILED = [(kind, name, re.compile(rf"\b(?:{pat})")) for kind, name, pat in RULES]
_TOPICS = [(name, re.compile(pat)) for name, pat in TOPICS]
FOLLOW_UP = re.compile(
    r"^ (?:and|what about|how about|same|also|et|aussi|pareil|meme chose|idem)\b|^ (?:\w+ ){0,2}"
    r"(?:for|pour) (?:my|mon|ma|mes|him|her|lui|elle|them|eux)\b")

def rule_hits(text: str) -> list[tuple[str, str]]:
    """Every (kind, rule name) whose pattern matches the normalised message."""
    return [(kind, name) for kind, name, pat in _COMPILED if pat.search(text)]


def topics_of(text: str) -> list[str]:
    return [name for name, pat in _TOPICS if pat.search(text)]
