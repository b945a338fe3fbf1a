"""Training that needs the whole assistant: the answerer's sentence ranker (the guard's head trains
in safety/train.py, on messages alone)."""
