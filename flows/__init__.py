"""The newscorpus pipeline: one module per stage, and the flow that chains them."""
