"""The search index (Whoosh): the only package that imports ``whoosh``.

- ``schema``: the fields, the analysis and ``document_for(article)``;
- ``query``: turning what a reader typed into a safe Whoosh query;
- ``searching``: reading the index for one operation (match, rank, facets, snippets, corrections);
- ``store``: the index folder, reused searchers, writes, atomic rebuilds;
- ``sync``: following the database through session events, repairs and rebuilds.

Views and other services use ``kb.services.search``, never this package directly.
"""
