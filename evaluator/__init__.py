"""mheval: does a chatbot treat people with mental-health conditions the way they say they need?

The package is a pipeline of stages (corpus → mine → findings → guidelines → index → score →
scenarios/check); each stage reads the previous stage's artefact from disk. The CLI in
`evaluator.cli` is a thin layer over these modules.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
