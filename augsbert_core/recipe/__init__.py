"""The run's stages as objects, each declaring the run files it reads and writes (`Stage.reads`, `Stage.writes`):

    context.py       RunContext (config, run directory, progress, state.json, the data) and the Stage base
    students.py      ZeroShotStage, StudentStage (gold-only, full-gold, AugSBERT), LabelErrorsStage
    silver.py        CandidatesStage, SilverStage (labels, labeler probe, selection), AugmentStage (scenario 1)
    teacher.py       WarmStartStage, TeacherStage (training, ensemble, readiness gate), build_labeler
    positives.py     PositivePairsStage (task positive_pairs: mining, binary teacher, check)
    deliverables.py  ResultsStage (predictions, speed.json, model cards, metrics.json), write_cards
    adopt.py         reuse_from: a finished run's stages adopted

`pipeline.py` runs them in the recipe's order; `stages.py` names their progress events and the steps the
Training page shows."""
