"""A synthetic haystack for scale benchmarks: many realistic documents around the real corpus.

`generate(out_dir, n_chunks_target, seed)` writes press articles, council minutes, official
reports and NGO activity reports (markdown with YAML front matter, 2–20k characters, headings
and paragraphs) about drug policy, addiction care, harm reduction, public health, housing,
policing and city politics in other cities and countries, plus unrelated municipal topics
(transport, schools, budgets, parks), then copies the real corpus in. The haystack shares the
real corpus's vocabulary so that it competes with the real evidence, but its names, places,
dates and figures are invented, and no document may contain a sentence of the real corpus or
a phrase given in `forbidden` (a document that would is drawn again).

Everything comes from sentence templates, vocabularies and a seeded RNG: the same seed gives
the same files, and 100,000 chunks take seconds.

    .venv/bin/python bench/synth_corpus.py OUT --chunks 100000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import string
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.text.language import fold  # noqa: E402

REAL_CORPUS = ROOT / "corpus"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"

# Characters per chunk for this generator's paragraphs with 600/120 chunking (measured with
# assistant.ingest.indexing.chunk_document): chunks end on paragraph or sentence boundaries, so they
# advance a little less than the 480 new characters of a full chunk.
CHARS_PER_CHUNK = 432

# -- places, people, organisations ---------------------------------------------------------

# city: (country, region of names, currency, districts, French-speaking)
CITIES: dict[str, tuple[str, str, str, tuple[str, ...], bool]] = {
    "Marseille": ("France", "fr", "euros", ("Belsunce", "Noailles", "La Belle de Mai",
                  "Saint-Mauront", "the Vieux-Port"), True),
    "Lyon": ("France", "fr", "euros", ("La Guillotière", "Part-Dieu", "the Croix-Rousse",
             "Gerland", "Vaise"), True),
    "Lille": ("France", "fr", "euros", ("Moulins", "Wazemmes", "Fives", "Lille-Sud"), True),
    "Bordeaux": ("France", "fr", "euros", ("Saint-Michel", "La Bastide", "Bacalan",
                 "the Chartrons"), True),
    "Toulouse": ("France", "fr", "euros", ("Arnaud-Bernard", "the Mirail", "Bagatelle",
                 "Matabiau"), True),
    "Nantes": ("France", "fr", "euros", ("Bouffay", "Malakoff", "the Île de Nantes",
               "Bellevue"), True),
    "Rennes": ("France", "fr", "euros", ("Villejean", "Maurepas", "the Colombier"), True),
    "Montpellier": ("France", "fr", "euros", ("Figuerolles", "the Mosson", "Gambetta"), True),
    "Nice": ("France", "fr", "euros", ("the Ariane", "Les Moulins", "Pasteur"), True),
    "Brussels": ("Belgium", "fr", "euros", ("Anneessens", "Molenbeek", "Gare du Midi",
                 "Matongé", "Schaerbeek"), True),
    "Liège": ("Belgium", "fr", "euros", ("Outremeuse", "Saint-Léonard", "Droixhe"), True),
    "Geneva": ("Switzerland", "fr", "Swiss francs", ("the Pâquis", "Plainpalais",
               "Les Grottes"), True),
    "Lausanne": ("Switzerland", "fr", "Swiss francs", ("the Riponne", "Chauderon",
                 "Bellevaux"), True),
    "Montreal": ("Canada", "fr", "dollars", ("Centre-Sud", "Hochelaga", "Saint-Henri",
                 "Parc-Extension"), True),
    "Zurich": ("Switzerland", "de", "Swiss francs", ("the Langstrasse", "Letten",
               "Altstetten", "Oerlikon"), False),
    "Frankfurt": ("Germany", "de", "euros", ("the Bahnhofsviertel", "Gallus", "Sossenheim",
                  "Höchst"), False),
    "Hamburg": ("Germany", "de", "euros", ("St. Georg", "St. Pauli", "Wilhelmsburg",
                "Billstedt"), False),
    "Berlin": ("Germany", "de", "euros", ("Kottbusser Tor", "Neukölln", "Wedding",
               "Marzahn"), False),
    "Amsterdam": ("the Netherlands", "nl", "euros", ("De Wallen", "the Bijlmer",
                  "Nieuw-West", "Oost"), False),
    "Rotterdam": ("the Netherlands", "nl", "euros", ("Delfshaven", "Charlois",
                  "Feijenoord"), False),
    "Copenhagen": ("Denmark", "nl", "kroner", ("Vesterbro", "Nørrebro", "Sydhavnen"), False),
    "Oslo": ("Norway", "nl", "kroner", ("Grønland", "Vaterland", "Tøyen"), False),
    "Lisbon": ("Portugal", "es", "euros", ("Intendente", "Mouraria", "Casal Ventoso",
               "Arroios"), False),
    "Porto": ("Portugal", "es", "euros", ("Aldoar", "Campanhã", "Bonfim"), False),
    "Barcelona": ("Spain", "es", "euros", ("El Raval", "the Besòs", "Nou Barris",
                  "Sant Antoni"), False),
    "Madrid": ("Spain", "es", "euros", ("Lavapiés", "Cañada Real", "Vallecas"), False),
    "Glasgow": ("Scotland", "en", "pounds", ("Calton", "Govan", "the Gorbals",
                "Possilpark"), False),
    "Manchester": ("England", "en", "pounds", ("Piccadilly", "Moss Side", "Ancoats",
                   "Cheetham Hill"), False),
    "Dublin": ("Ireland", "en", "euros", ("the north inner city", "Ballymun",
               "the Liberties"), False),
    "Vancouver": ("Canada", "en", "dollars", ("the Downtown Eastside", "Strathcona",
                  "Mount Pleasant"), False),
    "Toronto": ("Canada", "en", "dollars", ("Moss Park", "Regent Park", "Parkdale"), False),
    "Philadelphia": ("the United States", "en", "dollars", ("Kensington", "Fairhill",
                     "Point Breeze"), False),
}

FIRST = {
    "fr": "Camille Julien Sophie Karim Nadia Thomas Claire Mehdi Élodie Antoine Fatou Hugo "
    "Léa Samir Isabelle Olivier Chloé Mathieu Aïcha Bruno Lucie Yannick Malika Pierre Inès "
    "Raphaël Sandrine Didier Manon Farid Hélène Jérôme".split(),
    "de": "Anna Lukas Miriam Jonas Katrin Stefan Leonie Matthias Ayşe Felix Ursula Tobias "
    "Sabine Emre Petra Niklas Johanna Dirk Selin Florian".split(),
    "nl": "Sanne Pieter Lotte Daan Ingrid Maarten Freya Lars Anouk Bram Sigrid Joost Mette "
    "Henrik Fenna Ruben Astrid Willem".split(),
    "es": "Lucía Javier Marta Tiago Inês Pau Carmen Rui Nuria Diego Beatriz João Alba "
    "Sergio Mariana Jordi Rosa Andrés".split(),
    "en": "Sarah James Fiona Callum Aisha Daniel Megan Liam Priya Connor Rachel Owen Grace "
    "Marcus Niamh Ryan Chloe Kwame Heather Declan".split(),
}
LAST = {
    "fr": "Martin Lefèvre Benali Moreau Girard Diallo Fontaine Mercier Haddad Roux Garnier "
    "Chevalier Traoré Morel Lambert Bonnet Aubert Rousseau Kaci Perrin Marchand Colin Vidal "
    "Barbier Ndiaye Laurent Caron Faure Masson Renaud".split(),
    "de": "Becker Hoffmann Yilmaz Schulz Wagner Keller Brandt Krüger Hartmann Vogel Demir "
    "Lehmann Schmitt Fischer Braun Wolf".split(),
    "nl": "de Vries Jansen Bakker Visser Hansen Nielsen Larsen Johansen Mulder Smit Berg "
    "Dekker Lund Andersen Vos".split(),
    "es": "García Pereira Ferreira Martínez Silva Costa Navarro Sousa Romero Oliveira Vidal "
    "Serrano Santos Castro Rocha".split(),
    "en": "MacLeod Thompson O'Brien Patel Murphy Campbell Walsh Evans Okafor Reid Byrne "
    "Robertson Hughes Brennan Stewart Mensah".split(),
}

ORGS = (
    "Passerelle", "Harbour Outreach", "the Street Care Collective", "Bridges",
    "Le Relais du Quai", "Sunrise Recovery Trust", "the Red Lantern association",
    "Open Door", "Safe Harbour", "Point de Contact", "the Night Watch collective",
    "Second Chance", "the Wayfarers' Trust", "Médiation Nord", "Horizon",
    "Fresh Start Outreach", "the Lighthouse project", "Entraide Santé", "Roots",
    "the Crossing Point association",
)
OUTLETS = (
    "The Evening Courier", "The Daily Record", "Le Journal du Soir", "The Metro Observer",
    "City Voice", "The Northern Standard", "La Gazette régionale", "The Citizen",
    "The Morning Post", "Regional Herald", "Le Quotidien", "The Weekly Review",
)
AGENCIES = (
    "the regional health agency", "the national drugs observatory",
    "the public health institute", "the national audit office", "the city's health department",
    "the ministry of health", "the interior ministry", "the social affairs inspectorate",
    "the national institute for health research", "the regional court of auditors",
)

# Slots filled from these pools each time they appear (a pool entry may hold slots itself).
POOLS: dict[str, tuple[str, ...]] = {
    "substance": ("crack", "crack cocaine", "cocaine", "heroin", "synthetic opioids",
                  "fentanyl", "methamphetamine", "synthetic cathinones", "alcohol",
                  "benzodiazepines", "cannabis", "opioids"),
    "hard_drug": ("crack", "crack cocaine", "heroin", "fentanyl", "cocaine",
                  "methamphetamine", "synthetic opioids"),
    "service": ("a supervised consumption room", "a drop-in centre", "a low-threshold shelter",
                "a needle and syringe programme", "a mobile outreach team",
                "an addiction treatment centre", "a residential rehabilitation unit",
                "a day centre for homeless people", "a harm-reduction van",
                "an inhalation room", "a housing-first programme", "a methadone clinic",
                "a rest area for drug users", "a women-only night shelter",
                "a drug checking service", "a detox unit"),
    "group": ("homeless people", "young people", "women who use drugs", "migrants",
              "sex workers", "older residents", "families", "people leaving prison",
              "people with mental health problems", "students", "street children",
              "long-term drug users", "pregnant women", "asylum seekers"),
    "place": ("a disused car park", "the station forecourt", "a small park near the ring road",
              "the area under the motorway bridge", "the canal bank", "a vacant warehouse",
              "the tram terminus", "a square behind the market", "the stairwells of a housing "
              "estate", "the underpass near the bus station", "a wasteland by the railway",
              "the gardens near the town hall"),
    "official": ("the mayor", "the deputy mayor for public health",
                 "the deputy mayor for security", "the prefect", "the police chief",
                 "the health minister", "the interior minister", "the regional health director",
                 "the public prosecutor", "the head of the social services department",
                 "the district mayor", "the opposition leader on the council"),
    "role": ("an outreach worker with {org}", "a nurse at {hospital}",
             "the director of {org}", "a resident of {district}",
             "a shopkeeper in {district}", "a researcher at {agency}",
             "the head of the addiction unit at {hospital}", "a social worker",
             "a spokesperson for the prefecture", "a councillor from the opposition",
             "the deputy mayor for public health", "a police union representative",
             "a general practitioner in {district}", "a parent at a local school",
             "a peer worker with {org}", "the chair of the residents' association"),
    "measure": ("more police patrols", "a new treatment centre", "an extension of opening "
                "hours", "additional shelter beds", "a second consumption room",
                "closer cooperation between police and care services", "a dedicated budget",
                "better street lighting", "the evacuation of the camp",
                "a moratorium on evictions", "a peer support programme",
                "free naloxone kits", "more psychiatrists", "a night-time outreach service"),
    "problem": ("open drug scenes", "discarded syringes", "street dealing", "overdoses",
                "violence between dealers", "homelessness", "noise at night",
                "aggressive begging", "squats in empty buildings", "drug litter",
                "assaults on residents", "burglaries", "untreated infections"),
    "equipment": ("sterile syringes", "clean pipes", "naloxone kits", "condoms",
                  "alcohol swabs", "mouthpieces", "filters", "sharps containers",
                  "hygiene kits", "test strips"),
    "month": ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "ordinal": ("first", "second", "third", "fourth", "fifth"),
    "adj_change": ("sharp", "steady", "slight", "marked", "worrying", "modest"),
    "direction": ("rise", "fall", "increase", "decrease", "drop"),
    "school": ("a primary school", "a secondary school", "a nursery", "a vocational college",
               "a middle school"),
    "transport": ("the tram line", "the bus network", "the metro extension", "the cycle lanes",
                  "the night buses", "the new ring road", "the light rail line",
                  "the suburban trains"),
    "lack": ("shelter beds", "psychiatrists", "funding", "police officers", "treatment places",
             "street lighting", "social workers", "information", "public toilets",
             "coordination between services"),
    "counted": ("people sleeping rough", "visits to the drop-in centre", "used syringes",
                "calls to the hotline", "overdose alerts", "complaints from residents",
                "arrests", "nights in emergency shelters", "consultations"),
    "fr_drug": ("crack", "cocaïne", "héroïne", "cannabis", "drogues de synthèse"),
    "park": ("the botanical garden", "the riverside park", "the municipal swimming pool",
             "the central library", "the sports hall", "the city museum"),
}

# Slots computed each time they appear.
NUMBERS: dict[str, Callable[[random.Random], str]] = {
    "n": lambda r: str(r.randint(2, 95)),
    "n2": lambda r: str(r.randint(2, 40)),
    "big": lambda r: f"{r.randint(120, 9800):,}",
    "pct": lambda r: str(r.randint(3, 78)),
    "beds": lambda r: str(r.choice((12, 15, 20, 24, 30, 36, 40, 48, 60, 80, 120))),
    "hour": lambda r: f"{r.randint(6, 23)}:{r.choice(('00', '30'))}",
    "million": lambda r: f"{r.randint(1, 90) / 10 + r.choice((0, 0, 1, 3, 12)):.1f}",
    "votes": lambda r: str(r.randint(18, 61)),
    "votes2": lambda r: str(r.randint(3, 17)),
    "staff": lambda r: str(r.randint(3, 45)),
    "weeks": lambda r: str(r.randint(3, 12)),
}


# -- sentences ------------------------------------------------------------------------------
# Each topic: headline templates, sentences, and things people say.

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "drug_policy": {
        "titles": (
            "{city} divided over plans for {service}",
            "{mayor} calls on the government to act on {hard_drug} in {district}",
            "What {city} has learned from ten years of drug policy",
            "{country} considers new rules for consumption rooms",
            "Council backs {measure} for {district}",
            "Drug strategy for {city}: the {year} plan explained",
        ),
        "sentences": (
            "The city's drug strategy for {year} to {year2} sets out {n2} measures, from "
            "prevention in schools to treatment for long-term users.",
            "{mayor} has asked the national government to fund {service} in {district}.",
            "The plan was drawn up with {org}, the police and {agency}.",
            "Opponents of the project argue that {service} would draw more dealers to "
            "{district}.",
            "Supporters point to the experience of other cities, where {service} reduced "
            "public injecting.",
            "In {year}, the council voted to open {service} near {place}.",
            "The national law allows consumption rooms only as a trial, which ends in "
            "{year2}.",
            "The interior minister has repeatedly said that he opposes any room where drugs "
            "can be used under supervision.",
            "{official} described the strategy as balanced between care and enforcement.",
            "A steering committee meets every {ordinal} {weekday} of the month to follow the "
            "plan's progress.",
            "The city has commissioned an evaluation from {agency}, due in {month} {year2}.",
            "Decriminalising possession for personal use was rejected by parliament in {year}.",
            "{country} spends about {million} billion {currency} a year on drug policy, most "
            "of it on law enforcement.",
            "The plan promises {n2} new places in treatment for users of {hard_drug}.",
            "Local residents were consulted in {n2} public meetings held in {district}.",
            "The previous plan, adopted in {year0}, was criticised for its lack of funding.",
            "Several councillors asked for the plan to include measures for {group}.",
            "The government has so far refused to extend the trial beyond {year2}.",
            "Under the agreement, the state pays for care staff and the city provides the "
            "premises.",
            "The strategy will be reviewed after {n2} months, {official} said.",
        ),
        "quotes": (
            "We cannot arrest our way out of this problem",
            "Nobody wants {service} next to their home, but everyone wants the problem solved",
            "The state must take its share of responsibility",
            "This plan is a first step, not an end in itself",
            "We have asked for help for years and received nothing",
            "Our district has paid the price of decisions taken elsewhere",
            "Moving people from one street to the next is not a policy",
        ),
    },
    "addiction_care": {
        "titles": (
            "Waiting lists grow at {city}'s addiction services",
            "Inside the {district} clinic treating {hard_drug} users",
            "A new treatment centre opens in {district}",
            "Doctors warn of a shortage of addiction specialists in {city}",
            "{hospital} expands its addiction unit",
        ),
        "sentences": (
            "The addiction unit at {hospital} treated {big} patients last year, "
            "{pct} percent more than the year before.",
            "Patients wait on average {n2} weeks for a first appointment.",
            "Opioid substitution treatment is offered to around {big} people in {city}.",
            "There is still no approved substitution treatment for {hard_drug}, doctors point "
            "out.",
            "The centre in {district} has {beds} beds for detoxification and stabilisation.",
            "Many patients arrive after years on the street and with untreated infections.",
            "Psychiatric care is often the missing link, according to {role}.",
            "The team includes doctors, nurses, psychologists and social workers.",
            "A quarter of patients leave treatment within the first month.",
            "The clinic now opens on {weekday} evenings for people who work during the day.",
            "Treatment combines medical follow-up, counselling and help with housing.",
            "{org} accompanies patients to their appointments at {hospital}.",
            "Women represent about {pct} percent of those treated for {hard_drug} use.",
            "The regional health agency has promised {n2} additional posts for addiction "
            "nurses.",
            "Relapse is part of recovery, the staff insist, and patients can always come back.",
            "The unit saw {n} patients under 25 last year, most of them for {substance}.",
            "A hotline run by {org} answers {big} calls a year from users and their families.",
            "Residential programmes last between {weeks} weeks and six months.",
        ),
        "quotes": (
            "People come to us when they have nowhere else to go",
            "We see patients who have been refused everywhere else",
            "Treatment works, but only if it is available when people ask for it",
            "Without a stable place to sleep, care cannot last",
            "We need more psychiatrists, not more reports",
            "Every week we turn people away for lack of beds",
        ),
    },
    "harm_reduction": {
        "titles": (
            "On the road with {city}'s harm-reduction van",
            "{org} hands out record numbers of {equipment}",
            "Naloxone now available in {city} pharmacies",
            "The night shift: outreach workers in {district}",
            "Drug checking service finds dangerous batches in {city}",
        ),
        "sentences": (
            "Outreach workers from {org} distributed {big} {equipment} last year.",
            "The van stops at {place} every evening from {hour}.",
            "The programme also offers testing for hepatitis C and HIV.",
            "Volunteers carry naloxone, a medicine that reverses opioid overdoses.",
            "{org} trained {n} peer workers to reach people who avoid services.",
            "Used equipment is collected in {equipment} placed at {n2} points in the city.",
            "The drug checking service analysed {big} samples, {pct} percent of which did not "
            "contain what the buyer expected.",
            "Harm reduction does not mean approving drug use, {role} says.",
            "The team meets about {n} people each night in {district}.",
            "Since the service began, the number of syringes found in the street has fallen "
            "by {pct} percent.",
            "The {equipment} are funded by {agency} under a three-year agreement.",
            "Sharing equipment remains the main route of hepatitis C infection among users.",
            "Workers also hand out food, blankets and information on shelters.",
            "The consumption room in {district} records around {big} visits a month.",
            "No one has died of an overdose inside a supervised room in {country}, according "
            "to {agency}.",
            "An outreach worker described the work as building trust one conversation at a "
            "time.",
            "Pharmacies in {city} now sell naloxone without a prescription.",
            "The association's budget has not increased since {year0}.",
        ),
        "quotes": (
            "We meet people where they are",
            "A clean pipe costs almost nothing compared with a hospital stay",
            "Some nights we are the only people they speak to",
            "Trust takes months to build and one police raid to lose",
            "Every kit we hand out is a chance to talk about care",
        ),
    },
    "public_health": {
        "titles": (
            "Overdose deaths in {country} reach a new high",
            "Hepatitis C: {city} aims for elimination by {year2}",
            "{agency} publishes its annual report on drug use",
            "Emergency departments in {city} under strain",
            "Survey finds {adj_change} {direction} in {substance} use among young adults",
        ),
        "sentences": (
            "{country} recorded {big} drug-induced deaths in {year}, according to {agency}.",
            "The {adj_change} {direction} in overdoses is linked to the spread of "
            "{hard_drug}.",
            "Emergency departments in {city} treated {big} patients for intoxication.",
            "Prevalence of hepatitis C among people who inject drugs is estimated at "
            "{pct} percent.",
            "The survey questioned {big} people aged 18 to 64.",
            "Experimentation with {substance} has risen among people aged 18 to 25.",
            "Life expectancy in {district} is {n2} years lower than in the wealthiest "
            "districts.",
            "Data from wastewater analysis suggest that consumption of {substance} has "
            "doubled since {year0}.",
            "Respiratory problems and burns to the lips and hands are common among people "
            "who smoke {hard_drug}.",
            "The report calls for better data on {group}.",
            "Mental health services reported a {adj_change} {direction} in referrals.",
            "Vaccination campaigns reached {big} people living in shelters.",
            "Researchers at {agency} followed {big} users over {n2} months.",
            "The mortality rate among long-term users is several times that of the general "
            "population.",
            "Only {pct} percent of those who need treatment receive it, the report estimates.",
            "Tuberculosis screening is offered at {n2} sites across the city.",
        ),
        "quotes": (
            "These figures are only the visible part of the problem",
            "We are seeing people in a state we had not seen for years",
            "Prevention has been the poor relation of public health for too long",
            "The numbers are a warning we cannot ignore",
        ),
    },
    "housing": {
        "titles": (
            "Housing first: {city} doubles its programme",
            "Eviction of the {district} squat leaves {n} people on the street",
            "Shelters in {city} full every night, associations warn",
            "Social housing waiting list passes {big} households",
            "A new hostel for {group} in {district}",
        ),
        "sentences": (
            "The housing-first programme has found flats for {n} people since {year0}.",
            "Shelters in {city} turn away around {n} people every night.",
            "The squat in {district} housed about {n} people before it was evicted in "
            "{month}.",
            "{org} says that most of those evicted were not offered any accommodation.",
            "The waiting list for social housing in {city} now exceeds {big} households.",
            "Emergency accommodation in hotels costs the state {million} million {currency} "
            "a year.",
            "The new hostel in {district} will offer {beds} rooms for {group}.",
            "Tenants in {district} complain of dealing in the stairwells of their buildings.",
            "The landlord, a public housing company, has installed new entry doors and "
            "cameras.",
            "Rents have risen by {pct} percent in five years, pushing more families into "
            "overcrowded flats.",
            "People who use drugs are often excluded from ordinary shelters.",
            "Two years after moving in, {pct} percent of tenants were still in their "
            "flats.",
            "The council plans to convert {n2} empty offices into temporary housing.",
            "Winter measures open {beds} extra beds from {month} to March.",
            "Social workers say stable housing is the condition for any lasting care.",
        ),
        "quotes": (
            "You cannot treat someone who sleeps in a doorway",
            "The camp was cleared, but the people are still here",
            "A flat is not a reward for good behaviour, it is the starting point",
            "We are asked to do more every year with the same number of beds",
        ),
    },
    "policing": {
        "titles": (
            "Police step up operations against dealing in {district}",
            "{n} arrests in raid on {district} drug market",
            "Residents of {district} demand more police",
            "Police chief defends strategy against street dealing",
            "Dealing points dismantled, but the market moves on",
        ),
        "sentences": (
            "Police carried out {n} operations against dealing points in {district} last "
            "month.",
            "The operation led to {n} arrests and the seizure of {n2} kilograms of "
            "{hard_drug}.",
            "Officers patrol {place} day and night since the start of the year.",
            "The police chief says the number of dealing points has fallen from {n} to "
            "{n2}.",
            "Residents say dealers simply moved a few streets away.",
            "Fines for drug use were introduced in {year} and {big} were issued in the "
            "first year.",
            "The public prosecutor has opened an investigation into a network supplying "
            "{district}.",
            "Police unions complain of a lack of staff and equipment.",
            "{n} officers have been added to the local force since {year0}.",
            "Video surveillance cameras were installed at {n2} locations.",
            "The prefect banned gatherings at {place} for three months.",
            "Associations accuse the police of moving users away from the services they need.",
            "Cooperation between the police and outreach teams remains difficult, "
            "{role} says.",
            "The dismantling of one network is usually followed by the arrival of another, "
            "investigators admit.",
            "Most of those arrested were young street sellers, not the organisers.",
            "A specialised unit against drug trafficking was created in {year}.",
        ),
        "quotes": (
            "We clear a street and the dealers are back the next day",
            "The police cannot be the only answer",
            "Residents have the right to live in peace",
            "Our officers are exhausted",
            "We go after the networks, not the users",
        ),
    },
    "city_politics": {
        "titles": (
            "Opposition attacks {mayor} over security in {district}",
            "{city} council: a stormy session on {problem}",
            "Municipal elections: drugs and safety at the heart of the campaign",
            "{mayor} writes to the minister about {district}",
            "Deputy mayor resigns after row over {service}",
        ),
        "sentences": (
            "{mayor} wrote to the health minister in {month} asking for emergency funding.",
            "The opposition accused the majority of ignoring the residents of {district}.",
            "The motion calling for {measure} was rejected by {votes} votes to {votes2}.",
            "The mayor, elected in {year0}, has made the issue a priority of her second term.",
            "At a tense public meeting in {district}, residents shouted down the deputy mayor.",
            "The opposition leader called for a referendum on {service}.",
            "The council's majority is a coalition of socialists, greens and communists.",
            "The question of {problem} dominated the municipal campaign.",
            "In a letter to the prime minister, the mayor proposed {n2} possible sites.",
            "The prefecture and the city blame each other for the situation in {district}.",
            "The district mayor asked for a meeting with the interior minister.",
            "A petition signed by {big} residents was handed to the council.",
            "The right-wing group said it would vote against any new consumption site.",
            "Councillors from all groups agreed on the need for {measure}.",
            "The mayor's office said the decision belonged to the state.",
            "The debate lasted more than {n2} hours and ended late at night.",
        ),
        "quotes": (
            "The residents of {district} have been abandoned",
            "We will not accept that one district carries the whole burden",
            "This is a matter for the state, not for the city alone",
            "The opposition prefers slogans to solutions",
            "We were elected to find solutions, not to shift the problem",
        ),
    },
    "transport": {
        "titles": (
            "{transport}: works to start in {month}",
            "{city} votes on fares for {year2}",
            "Delays on {transport} anger commuters",
            "Cycling in {city} up by {pct} percent",
        ),
        "sentences": (
            "Works on {transport} will close {n2} stations for several weeks.",
            "The extension will cost {million} million {currency}, shared between the city "
            "and the region.",
            "Ridership on {transport} has grown by {pct} percent since {year0}.",
            "The monthly pass will rise to {n} {currency} from {month}.",
            "Commuters from {district} complain of overcrowded trains at rush hour.",
            "The council approved {n2} kilometres of new cycle lanes.",
            "Night services will run on Fridays and Saturdays until {hour}.",
            "The operator blamed staff shortages for the cancellations.",
            "A new park-and-ride with {big} spaces opens next year.",
            "Accessibility works will equip every station with lifts by {year2}.",
            "Traffic in the city centre has fallen by {pct} percent since the low-emission "
            "zone came into force.",
            "Residents of {district} have waited {n2} years for the promised tram stop.",
        ),
        "quotes": (
            "The network was designed for a city half this size",
            "People need reliable transport to get to work",
            "These works are long overdue",
        ),
    },
    "schools": {
        "titles": (
            "{n2} classes to close in {city} next year",
            "Canteen prices frozen in {city} schools",
            "Renovation of {school} in {district} finally approved",
            "Parents protest over teacher shortages",
        ),
        "sentences": (
            "The council will renovate {n2} schools over the next three years.",
            "Pupil numbers in {city} have fallen by {pct} percent in ten years.",
            "Parents at {school} in {district} staged a sit-in over a class closure.",
            "School meals cost families between 1 and {n2} {currency} depending on income.",
            "The education authority has not replaced {n} absent teachers.",
            "After-school activities now reach {big} children.",
            "The renovation will add a gymnasium and a library.",
            "Prevention sessions on alcohol and cannabis are given in {pct} percent of "
            "secondary schools.",
            "A study found that {pct} percent of pupils walk or cycle to school.",
            "Playgrounds are being replanted to provide shade in summer.",
            "The new school in {district} will open in September {year2}.",
        ),
        "quotes": (
            "Our children deserve decent buildings",
            "Every class closure is a blow to the neighbourhood",
            "We will keep fighting for our school",
        ),
    },
    "budget": {
        "titles": (
            "{city} adopts its {year} budget",
            "Debt, taxes and investment: the {year} budget in figures",
            "Auditors criticise {city}'s finances",
            "Cuts to grants worry {city}'s associations",
        ),
        "sentences": (
            "The budget for {year} amounts to {million} billion {currency}.",
            "Investment spending will reach {big} million {currency}, a record.",
            "The property tax rate is unchanged for the {ordinal} year in a row.",
            "The city's debt has risen to {big} million {currency}.",
            "Grants to associations fall by {pct} percent, to the dismay of {org}.",
            "Staff costs account for {pct} percent of operating expenditure.",
            "The opposition voted against, denouncing what it called a budget of "
            "renunciation.",
            "The regional court of auditors found that forecasts were too optimistic.",
            "Energy bills for municipal buildings doubled in two years.",
            "The social services budget rises by {pct} percent to meet growing demand.",
            "The budget was adopted by {votes} votes to {votes2}.",
            "The city sold {n2} buildings to finance its investments.",
        ),
        "quotes": (
            "This is a responsible budget in difficult times",
            "The city is living beyond its means",
            "We protect public services without raising taxes",
        ),
    },
    "civic_life": {
        "titles": (
            "{park} reopens after two years of works",
            "Summer programme announced for {city}",
            "Tree planting plan for {district}",
            "Heatwave plan: {city} opens cool rooms",
        ),
        "sentences": (
            "{park} reopens on {weekday} after a renovation costing {million} million "
            "{currency}.",
            "The city will plant {big} trees over the next five years.",
            "Free concerts will be held in {n2} parks during the summer.",
            "The library now opens on Sundays and until {hour} on weekdays.",
            "Cool rooms will be open in {n2} public buildings during heatwaves.",
            "Residents of {district} chose {n2} projects in the participatory budget.",
            "The market in {district} will move while the square is rebuilt.",
            "Volunteers collected {n2} tonnes of litter along the river.",
            "The sports hall in {district} will be rebuilt to host regional competitions.",
            "Noise complaints in the nightlife district have risen by {pct} percent.",
        ),
        "quotes": (
            "Public spaces belong to everyone",
            "This park was the heart of the neighbourhood",
            "We want a greener, cooler city",
        ),
    },
}

DRUG_TOPICS = ("drug_policy", "addiction_care", "harm_reduction", "public_health", "housing",
               "policing", "city_politics")
OTHER_TOPICS = ("transport", "schools", "budget", "civic_life")

# Free sentences: subject + action + circumstance, so that documents don't repeat themselves.
SUBJECTS = (
    "{official_cap}", "{org_name}", "the council", "residents of {district}", "{agency_cap}",
    "the police", "outreach workers", "doctors at {hospital}", "the prefecture",
    "local shopkeepers", "the opposition", "{mayor}", "a collective of parents",
    "the residents' association of {district}", "nurses from {org}", "{person_role}",
    "the regional council", "a group of researchers", "the health ministry",
    "the city's social services", "union representatives", "several associations",
)
ACTIONS = (
    "called for {measure}", "warned about {problem}", "welcomed {measure}",
    "proposed {measure}", "asked {official} for {measure}", "published new figures on {problem}",
    "denounced the lack of {lack}", "met {official} to discuss {problem}",
    "raised concerns about {problem} near {place}", "announced {measure}",
    "came out against {service}", "backed plans for {service}", "counted {big} {counted}",
    "reported a {adj_change} {direction} in {problem}", "organised a march against {problem}",
    "demanded an urgent meeting with {official}", "set up {service}",
    "recorded {n} incidents linked to {problem}", "handed out {big} {equipment}",
    "described {problem} as the main concern of residents",
    "pointed to the situation at {place}", "criticised the response to {problem}",
    "questioned the cost of {measure}", "launched a survey of {group}",
    "signed an agreement with {org} on {service}", "promised {measure} before {month}",
    "postponed the decision on {service}", "asked for {measure} for {group}",
)
CIRCUMSTANCES = (
    "", "", "", " in {district}", " last {month}", " on {weekday}",
    " after a series of incidents", " in a statement", " during a meeting at the town hall",
    " for the {ordinal} time this year", " earlier this year", " despite strong opposition",
    " in {year}", ", according to {outlet}", " after {n2} months of negotiations",
    " in a letter to {official}", ", a move welcomed by {org}", " without consulting residents",
    " at a press conference on {weekday}", " in {district2}",
)


QUOTE_FRAMES = (
    "“{quote}”, said {speaker}.",
    "“{quote}”, {speaker} told reporters.",
    "“{quote},” says {speaker}.",
    "According to {speaker}, “{quote_lower}”.",
    "{speaker_cap}, put it bluntly: “{quote}.”",
    "“{quote}. {quote2}”, insists {speaker}.",
)

CONNECTORS = ("Meanwhile, ", "However, ", "By contrast, ", "In {district}, ",
              "According to {agency}, ", "At the same time, ", "Yet ")

MINUTES_SENTENCES = (
    "The session opened at {hour} under the chairmanship of {mayor}.",
    "The minutes of the previous meeting were approved without amendment.",
    "The rapporteur presented the report on behalf of the committee.",
    "{person} asked whether the residents of {district} had been consulted.",
    "The deputy mayor replied that a consultation would take place in {month}.",
    "The item was adopted by {votes} votes to {votes2}, with {n2} abstentions.",
    "The item was adopted unanimously.",
    "An amendment tabled by the opposition group was rejected.",
    "{person} requested that the vote be recorded by roll call.",
    "The chair suspended the session for {n2} minutes.",
    "The council took note of the report, which required no vote.",
    "{person} asked for the figures to be sent to all councillors before the next meeting.",
    "The mayor reminded members that the matter fell within the competence of the state.",
    "A written question on {problem} in {district} will be answered at the next session.",
)

REPORT_SENTENCES = (
    "This report is based on interviews with {n} professionals and {n2} service users.",
    "The data cover the period from January {year0} to December {year}.",
    "The figures should be read with caution, as reporting practices differ between "
    "services.",
    "Recommendation {n2}: {measure_cap} should be considered for {district}.",
    "The working group met {n2} times between {month} and December.",
    "Table {n2} shows the distribution of users by age and sex.",
    "No single measure explains the changes observed.",
    "The authors thank the teams of {org} and {hospital} for their help.",
    "These findings are consistent with those of earlier studies in {country}.",
    "Further research is needed on the situation of {group}.",
)

NGO_SENTENCES = (
    "In {year}, our teams met {big} people, {pct} percent of them for the first time.",
    "We employ {staff} staff and rely on {n} volunteers.",
    "Our drop-in centre in {district} was open {n2} hours a week.",
    "We distributed {big} {equipment} and {big2} hygiene kits.",
    "The year was marked by the closure of {place}, which scattered the people we follow.",
    "Our funding comes mainly from {agency} and the city of {city}.",
    "We accompanied {n} people to medical appointments and {n2} into housing.",
    "Thank you to all our partners, volunteers and donors.",
    "Our night team now goes out {n2} times a week.",
    "The number of women coming to the centre rose by {pct} percent.",
)

HEADINGS = {
    "press": ("Background", "What residents say", "The response", "A long-running problem",
              "What happens next", "In figures", "Elsewhere in {country}", "The debate"),
    "report": ("Summary", "Context", "Method", "Findings", "The situation in {district}",
               "Services and their use", "Costs", "Recommendations", "Annex: figures"),
    "ngo": ("Who we are", "Our year in figures", "Outreach", "The drop-in centre",
            "Health", "Housing", "Testimonies", "Partners", "Outlook for {year2}"),
}

# -- French documents (a share of the French-speaking cities' press) -----------------------

FR_TITLES = (
    "À {city}, la colère des habitants de {district}",
    "{city} : un nouveau centre de soins pour les usagers de drogues",
    "Trafic de stupéfiants : nouvelle opération de police à {district}",
    "Le budget {year} de {city} adopté",
    "Salle de consommation : le débat relancé à {city}",
)
FR_SENTENCES = (
    "Le maire de {city} a écrit au ministre de la Santé pour réclamer des moyens "
    "supplémentaires.",
    "Les riverains de {district} dénoncent le trafic au pied des immeubles.",
    "L'association {org} a distribué {big} kits de réduction des risques l'an dernier.",
    "Une maraude passe chaque soir à partir de {hour} près de la gare.",
    "Le centre d'accueil de {district} reçoit environ {n} personnes par jour.",
    "La préfecture a annoncé le renfort de {n2} policiers pour l'été.",
    "L'opposition municipale s'oppose à l'ouverture d'une salle de consommation.",
    "Selon l'agence régionale de santé, les overdoses ont augmenté de {pct} % en {year}.",
    "Les équipes de {org} accompagnent les usagers vers le soin et l'hébergement.",
    "Le conseil municipal a voté une subvention de {n} 000 euros pour l'association.",
    "Les places d'hébergement d'urgence manquent tous les soirs, selon les travailleurs "
    "sociaux.",
    "Les travaux du tramway dureront jusqu'en {year2}, a précisé la mairie.",
    "Le taux de la taxe foncière reste inchangé cette année.",
    "Les parents d'élèves de {district} réclament la réouverture d'une classe.",
    "Une réunion publique s'est tenue jeudi soir à la mairie d'arrondissement.",
    "Le procureur a ouvert une enquête sur un réseau de revente de {fr_drug}.",
    "Les professionnels de santé réclament davantage de psychiatres et d'infirmiers.",
    "La consommation de {fr_drug} progresse chez les personnes sans domicile.",
    "Un campement installé sous le pont a été évacué mardi matin.",
    "Le dispositif sera évalué au bout de {n2} mois.",
)
FR_QUOTES = (
    "Nous ne pouvons pas déplacer le problème d'une rue à l'autre",
    "Les habitants sont à bout",
    "L'État doit prendre ses responsabilités",
    "Le soin doit passer avant la répression",
    "On manque de tout : de places, de personnel, de moyens",
)
FR_HEADINGS = ("Le contexte", "Ce que disent les habitants", "La réponse des autorités",
               "Et maintenant ?")


# -- filling templates ----------------------------------------------------------------------


@cache
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((lit, name) for lit, name, _, _ in string.Formatter().parse(template))


def _fill(template: str, ctx: dict[str, str], rng: random.Random) -> str:
    out = []
    for literal, name in _parts(template):
        out.append(literal)
        if name is None:
            continue
        if name in ctx:
            out.append(ctx[name])
        elif name in NUMBERS:
            out.append(NUMBERS[name](rng))
        else:
            value = rng.choice(POOLS[name])
            out.append(_fill(value, ctx, rng) if "{" in value else value)
    return "".join(out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(rng: random.Random, region: str) -> str:
    return f"{rng.choice(FIRST[region])} {rng.choice(LAST[region])}"


def _context(rng: random.Random, city: str) -> dict[str, str]:
    country, region, currency, districts, _ = CITIES[city]
    year = rng.randint(2012, 2025)
    district, district2 = rng.sample(districts, 2)
    mayor = _name(rng, region)
    return {
        "city": city, "country": country, "currency": currency, "district": district,
        "district2": district2, "mayor": f"{city} mayor {mayor}", "mayor_name": mayor,
        "org": rng.choice(ORGS), "hospital": rng.choice(
            (f"{city} University Hospital", f"the {district2} hospital",
             "the general hospital", f"the {city} psychiatric hospital")),
        "agency": rng.choice(AGENCIES), "outlet": rng.choice(OUTLETS),
        "year": str(year), "year0": str(year - rng.randint(2, 9)),
        "year2": str(year + rng.randint(1, 4)), "region": region,
        "published": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


_PREPOSITIONAL = ("In ", "At ", "Since ", "Under ", "According", "After ", "By ", "For ")


def _sentence(template: str, ctx: dict[str, str], rng: random.Random, lead: bool) -> str:
    body = _fill(template, ctx, rng)
    if not lead or template.startswith(("{", "“")) or template.startswith(_PREPOSITIONAL):
        return _cap(body)
    connector = rng.choice(CONNECTORS)
    if "{district}" in connector and "{district}" in template:
        connector = "Meanwhile, "
    # A template's own first word is never a name, so it loses its capital after a lead.
    return _fill(connector, ctx, rng) + body[:1].lower() + body[1:]


def _composed(ctx: dict[str, str], rng: random.Random) -> str:
    extra = {
        "official_cap": _cap(rng.choice(POOLS["official"])),
        "org_name": _cap(rng.choice(ORGS)),
        "agency_cap": _cap(rng.choice(AGENCIES)),
        "person_role": f"{_name(rng, ctx['region'])}, "
        + _fill(rng.choice(POOLS["role"]), ctx, rng) + ",",
    }
    subject = _fill(rng.choice(SUBJECTS), {**ctx, **extra}, rng)
    action = _fill(rng.choice(ACTIONS), ctx, rng)
    return _cap(f"{subject} {action}{_fill(rng.choice(CIRCUMSTANCES), ctx, rng)}.")


def _quote(topic: dict[str, tuple[str, ...]], ctx: dict[str, str], rng: random.Random) -> str:
    speaker = f"{_name(rng, ctx['region'])}, {_fill(rng.choice(POOLS['role']), ctx, rng)}"
    first, second = (_fill(q, ctx, rng) for q in rng.sample(topic["quotes"], 2))
    return rng.choice(QUOTE_FRAMES).format(
        quote=first, quote_lower=first[:1].lower() + first[1:], quote2=second,
        speaker=speaker, speaker_cap=_cap(speaker),
    )


def _paragraph(pool: tuple[str, ...], ctx: dict[str, str], rng: random.Random,
               topic: dict[str, tuple[str, ...]] | None = None, leads: bool = True,
               free: bool = True) -> str:
    templates = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
    sentences = [
        _composed(ctx, rng) if free and rng.random() < 0.4
        else _sentence(t, ctx, rng, leads and i > 0 and rng.random() < 0.25)
        for i, t in enumerate(templates)
    ]
    if topic is not None and rng.random() < 0.35:
        sentences.insert(rng.randint(0, len(sentences)), _quote(topic, ctx, rng))
    return " ".join(sentences)


def _grow(blocks: list[str], target: int, make: Callable[[], str]) -> None:
    """Add blocks up to `target` characters; a document never ends on a heading."""
    size = sum(len(b) + 2 for b in blocks) - 2  # blocks are joined by blank lines
    while size < target or blocks[-1].startswith("## "):
        block = make()
        blocks.append(block)
        size += len(block) + 2


def _may_head(blocks: list[str], after: int) -> bool:
    """A heading only after `after` blocks and never right after another heading."""
    return len(blocks) >= after and not blocks[-1].startswith("## ")


def _next_heading(blocks: list[str], headings: Iterator[str], ctx: dict[str, str],
                  rng: random.Random) -> str | None:
    """A report's next section heading: always first, then now and then until none are left."""
    if (not blocks or _may_head(blocks, 1) and rng.random() < 0.15) and (
        h := next(headings, None)
    ):
        return "## " + _fill(h, ctx, rng)
    return None


def _press(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    name = rng.choice(DRUG_TOPICS) if rng.random() < 0.7 else rng.choice(OTHER_TOPICS)
    topic = TOPICS[name]
    # Articles stray into a neighbouring subject now and then, as real ones do.
    side = TOPICS[rng.choice(DRUG_TOPICS if name in DRUG_TOPICS else OTHER_TOPICS)]
    title = _cap(_fill(rng.choice(topic["titles"]), ctx, rng))
    blocks: list[str] = []

    def make() -> str:
        if _may_head(blocks, 2) and rng.random() < 0.12:
            return "## " + _fill(rng.choice(HEADINGS["press"]), ctx, rng)
        chosen = side if rng.random() < 0.2 else topic
        return _paragraph(chosen["sentences"], ctx, rng, chosen)

    _grow(blocks, target, make)
    return title, blocks


def _minutes(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    day, month = ctx["published"][-2:].lstrip("0"), POOLS["month"][int(ctx["published"][5:7]) - 1]
    date = f"{day} {month} {ctx['year']}"
    title = f"{ctx['city']} city council: minutes of the meeting of {date}"
    region = ctx["region"]
    present = ", ".join(_name(rng, region) for _ in range(rng.randint(8, 16)))
    blocks = [f"Present: {ctx['mayor_name']} (chair), {present}.",
              _fill(rng.choice(MINUTES_SENTENCES[:2]), ctx, rng)]
    item = 0

    def make() -> str:
        nonlocal item
        if _may_head(blocks, 1) and rng.random() < 0.18:
            item += 1
            name = rng.choice(DRUG_TOPICS + OTHER_TOPICS * 2)
            ctx["_topic"] = name
            heading = _fill(rng.choice(TOPICS[name]["titles"]), ctx, rng)
            return f"## Item {item}: {_cap(heading)}"
        topic = TOPICS[ctx.get("_topic", "budget")]
        pool = topic["sentences"] if rng.random() < 0.6 else MINUTES_SENTENCES
        return _paragraph(pool, {**ctx, "person": _name(rng, region)}, rng, leads=False,
                          free=pool is not MINUTES_SENTENCES)

    _grow(blocks, target, make)
    return title, blocks


def _report(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    name = rng.choice(DRUG_TOPICS)
    topic = TOPICS[name]
    subject = _fill(rng.choice(topic["titles"]), ctx, rng)
    title = f"{_cap(subject)}: a report by {ctx['agency']}"
    headings = iter(HEADINGS["report"])
    blocks: list[str] = []

    def make() -> str:
        if h := _next_heading(blocks, headings, ctx, rng):
            return h
        pool = topic["sentences"] if rng.random() < 0.7 else REPORT_SENTENCES
        measure = _fill(rng.choice(POOLS["measure"]), ctx, rng)
        return _paragraph(pool, {**ctx, "measure_cap": _cap(measure)}, rng)

    _grow(blocks, target, make)
    return title, blocks


def _ngo(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    org = ctx["org"]
    title = f"{_cap(org)} in {ctx['city']}: activity report {ctx['year']}"
    topic = TOPICS[rng.choice(("harm_reduction", "addiction_care", "housing"))]
    headings = iter(HEADINGS["ngo"])
    blocks: list[str] = []

    def make() -> str:
        if h := _next_heading(blocks, headings, ctx, rng):
            return h
        pool = topic["sentences"] if rng.random() < 0.5 else NGO_SENTENCES
        return _paragraph(pool, {**ctx, "big2": NUMBERS["big"](rng)}, rng, topic, leads=False,
                          free=pool is not NGO_SENTENCES)

    _grow(blocks, target, make)
    return title, blocks


def _french(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    title = _fill(rng.choice(FR_TITLES), ctx, rng)
    blocks: list[str] = []

    def make() -> str:
        if _may_head(blocks, 2) and rng.random() < 0.12:
            return "## " + rng.choice(FR_HEADINGS)
        sentences = [_fill(t, ctx, rng) for t in rng.sample(FR_SENTENCES, rng.randint(2, 5))]
        if rng.random() < 0.3:
            who = f"{_name(rng, 'fr')}, de l'association {ctx['org']}"
            sentences.append(f"« {rng.choice(FR_QUOTES)} », estime {who}.")
        return " ".join(sentences)

    _grow(blocks, target, make)
    return title, blocks


# (kind, weight, size range in characters, writer)
KINDS: tuple[tuple[str, float, tuple[int, int], Callable], ...] = (
    ("press", 0.45, (2000, 7000), _press),
    ("minutes", 0.15, (6000, 20000), _minutes),
    ("report", 0.15, (8000, 20000), _report),
    ("ngo", 0.15, (4000, 15000), _ngo),
    ("press-fr", 0.10, (2000, 6000), _french),
)
SOURCES = {
    "press": "{outlet}, {city}",
    "minutes": "Minutes of the {city} city council",
    "report": "{agency_cap}",
    "ngo": "{org_cap}, {city}",
    "press-fr": "{outlet}, {city}",
}


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_document(seed: int, i: int, attempt: int = 0) -> tuple[str, str]:
    """(document id, file text) of haystack document `i`; the same arguments, the same text."""
    rng = random.Random(f"{seed}:{i}:{attempt}")
    kind, _, (lo, hi), writer = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0]
    cities = [c for c, v in CITIES.items() if v[4]] if kind == "press-fr" else list(CITIES)
    ctx = _context(rng, rng.choice(cities))
    # Sizes lean towards the short end, as in real collections; the last block added may
    # overshoot the target by up to a paragraph, hence the margin under the upper bound.
    target = int(lo + (hi - 800 - lo) * rng.random() ** 1.6)
    title, blocks = writer(rng, ctx, target)
    doc_id = f"synth-{seed}-{i:06d}"
    published = ctx["published"]
    source = SOURCES[kind].format(
        outlet=ctx["outlet"], city=ctx["city"], agency_cap=_cap(ctx["agency"]),
        org_cap=_cap(ctx["org"]),
    )
    front = "\n".join((
        "---", f"id: {doc_id}", f"title: {_yaml_str(title)}",
        f"language: {'fr' if kind == 'press-fr' else 'en'}", f"published: '{published}'",
        f"source: {_yaml_str(source + ' (synthetic benchmark document, seed ' + str(seed) + ')')}",
        f"provenance: {_yaml_str('generated by bench/synth_corpus.py')}", "---",
    ))
    return doc_id, front + "\n" + "\n\n".join(blocks) + "\n"


# -- forbidden phrases ----------------------------------------------------------------------


def _fold_fast(text: str) -> str:
    return text.lower() if text.isascii() else fold(text)


def real_sentences(corpus_dir: Path, min_chars: int = 25) -> list[str]:
    """Folded sentences (and lines) of the real documents: the haystack must not repeat them."""
    from assistant.ingest.corpus import load_corpus

    out: set[str] = set()
    for doc in load_corpus(corpus_dir).documents:
        for piece in re.split(r"(?<=[.!?…])\s+|\n+", doc.text):
            piece = fold(piece.strip())
            if len(piece) >= min_chars:
                out.add(piece)
    return sorted(out)


def dev_evidence(path: Path = DEV_QUESTIONS) -> list[str]:
    """The evidence phrases of a question file (none when the file is absent)."""
    if not path.exists():
        return []
    from assistant.evaluation import load_questions

    return sorted({e for q in load_questions(path) for e in q.evidence})


@dataclass
class GenerationReport:
    documents: int
    characters: int
    estimated_chunks: int
    redrawn: int  # haystack documents drawn again because they held a forbidden phrase
    seconds: float


def estimate_chunks(chars: int) -> int:
    return max(1, round(chars / CHARS_PER_CHUNK))


def generate(
    out_dir: Path,
    n_chunks_target: int,
    seed: int,
    *,
    real_corpus: Path | None = REAL_CORPUS,
    forbidden: Iterable[str] = (),
) -> GenerationReport:
    """Write haystack documents for about `n_chunks_target` chunks in all, plus the real corpus.

    Real documents count towards the target. No haystack document contains a sentence of the
    real corpus or a `forbidden` phrase (accents and case ignored).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    banned = [fold(p) for p in forbidden if p.strip()]
    total_chars, have = 0, 0
    if real_corpus is not None:
        banned += real_sentences(real_corpus)
        for path in sorted(Path(real_corpus).iterdir()):
            if path.is_file():
                shutil.copy(path, out_dir / path.name)
                if path.name != "README.md":
                    have += estimate_chunks(len(path.read_text(encoding="utf-8")))
    i, redrawn = 0, 0
    while have < n_chunks_target:
        for attempt in range(50):
            doc_id, text = make_document(seed, i, attempt)
            folded = _fold_fast(text)
            if not any(b in folded for b in banned):
                break
            redrawn += 1
        else:
            raise RuntimeError(f"document {i}: every draw held a forbidden phrase")
        (out_dir / f"{doc_id}.md").write_text(text, encoding="utf-8")
        body = len(text) - text.index("\n---\n") - 5
        total_chars += body
        have += estimate_chunks(body)
        i += 1
    return GenerationReport(i, total_chars, have, redrawn, time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-real", action="store_true", help="haystack only")
    args = parser.parse_args()
    report = generate(args.out, args.chunks, args.seed,
                      real_corpus=None if args.no_real else REAL_CORPUS,
                      forbidden=dev_evidence())
    print(f"{report.documents:,} documents, {report.characters:,} characters, "
          f"~{report.estimated_chunks:,} chunks, {report.redrawn} redrawn, "
          f"{report.seconds:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
