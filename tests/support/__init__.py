"""Helpers shared by the tests (no tests here): `scoring` has a fake judge, a fake voice
retriever and fixture rubrics; `llm_fakes` a scripted fake chat model; `runs` hand-built
verdicts and run records; `findings` annotation fixtures and a synthetic corpus. Import them as
`from support.scoring import ...` (pytest puts tests/ on sys.path)."""
