"""Relevance: what candidates and staff actually type lands on the right capability in the first three.

The queries are written from the shipped content: plain words, jargon, acronyms, questions, misnamed
teams. If a change to the schema, the boosts or the glossary pushes an answer below third place, this fails.
"""

import pytest

from kb.services import search
from kb.services.search import SearchQuery

# (what someone types, the capability that should be in the first three results)
CASES = [
    # Candidates, in plain words
    ("money laundering", "tvp-criminal-finances-team"),
    ("laundering", "tvp-criminal-finances-team"),
    ("undercover", "covert-operations-unit"),
    ("undercover online", "covert-operations-unit"),
    ("bitcoin", "cryptocurrency-unit"),
    ("crypto", "cryptocurrency-unit"),
    ("dark web", "online-serious-organised-crime"),
    ("darknet", "online-serious-organised-crime"),
    ("ransomware", "regional-cyber-crime-unit"),
    ("hacking", "regional-cyber-crime-unit"),
    ("DDoS attack", "regional-cyber-crime-unit"),
    ("cyber crime", "regional-cyber-crime-unit"),
    ("modern slavery", "tackling-organised-exploitation"),
    ("human trafficking", "tackling-organised-exploitation"),
    ("prison corruption", "south-east-region-prison-intelligence-team"),
    ("highest risk offenders in prison", "south-east-region-prison-intelligence-team"),
    ("county lines", "county-lines-intelligence-coordinator"),
    ("child sexual exploitation online", "online-csae-and-crime-operations"),
    ("surveillance", "regional-investigations-syndicates"),
    ("technical surveillance", "south-east-technical-surveillance-unit"),
    ("digital forensics", "digital-forensics-unit"),
    ("vehicle telematics", "digital-forensics-unit"),
    ("analyst jobs", "research-and-analysis"),
    ("intelligence analyst", "research-and-analysis"),
    ("threat assessment", "rocta"),
    ("how do I apply", "how-to-apply"),
    ("vacancies", "how-to-apply"),
    ("what is SEROCU", "about-the-unit"),
    ("working at SEROCU", "working-at-the-unit"),
    ("communications", "communications"),
    ("HR finance facilities", "business-support"),
    ("fraud investigation", "regional-fraud-team"),
    ("bribery", "tvp-economic-crime-teams"),
    ("misconduct in public office", "tvp-economic-crime-teams"),
    ("financial investigator", "financial-investigation-team"),
    # Staff, with the unit's jargon and acronyms
    ("SARs", "financial-intelligence-unit"),
    ("suspicious activity reports", "financial-intelligence-unit"),
    ("who does phone downloads", "digital-forensics-unit"),
    ("ACE", "asset-confiscation-team"),
    ("FIU", "financial-intelligence-unit"),
    ("HUMINT", "humint"),
    ("Gateway", "gateway"),
    ("informant", "humint"),
    ("CHIS", "humint"),
    ("source handler", "humint"),
    ("CSAE", "online-csae-and-crime-operations"),
    ("GAIN", "government-agency-intelligence-network"),
    ("partner agency intelligence sharing", "government-agency-intelligence-network"),
    ("PECT", "proactive-economic-crime-team"),
    ("RART", "regional-asset-recovery-team"),
    ("opsy", "operational-security"),
    ("setsu", "south-east-technical-surveillance-unit"),
    ("covert law advice", "operational-security"),
    ("OCG", "regional-investigations-syndicates"),
    ("sensitive sources", "sensitive-intelligence-unit"),
    ("intelligence development", "intelligence-development"),
    ("confiscation order", "asset-confiscation-team"),
    ("restraint", "financial-investigation-team"),
    ("POCA", "tvp-asset-recovery-teams"),
    ("Proceeds of Crime Act", "tvp-asset-recovery-teams"),
    ("account freezing orders", "tvp-criminal-finances-team"),
    ("civil recovery without a conviction", "regional-civil-recovery-team"),
    ("cash at Gatwick", "regional-cash-team"),
    ("cash seizure at airports", "regional-cash-team"),
    ("fraud development officer", "regional-fraud-development-officer"),
    ("City of London Police fraud", "regional-fraud-development-officer"),
    ("disrupt organised crime groups with partners", "regional-disruption-team"),
    ("economic crime unit", "south-east-regional-economic-crime-unit"),
]


def test_there_are_enough_cases():
    assert len(CASES) >= 40
    assert len({q.lower() for q, _ in CASES}) == len(CASES), "every query is distinct"


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[q for q, _ in CASES])
def test_expected_capability_is_in_the_first_three(app, text, expected):
    with app.test_request_context("/search"):
        found = search.search(SearchQuery(text=text))
    top = [hit.article.slug for hit in found.hits[:3]]
    assert expected in top, f"{text!r}: expected {expected} in the first three, got {top}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACE", "asset-confiscation-team"),
        ("FIU", "financial-intelligence-unit"),
        ("HUMINT", "humint"),
        ("Gateway", "gateway"),
        ("Regional Fraud Team", "regional-fraud-team"),
    ],
)
def test_an_exact_title_or_acronym_ranks_first(app, text, expected):
    with app.test_request_context("/search"):
        found = search.search(SearchQuery(text=text))
    assert found.hits[0].article.slug == expected
