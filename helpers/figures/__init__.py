"""Every drawing and animation in the series, drawn from the real tensors.

One module per notebook topic: :mod:`.softsplit`, :mod:`.coverage` and :mod:`.explorer` (01),
:mod:`.attention` (02), :mod:`.reconstruction` (03), :mod:`.diagrams` and :mod:`.pipeline` (04),
:mod:`.training` (05), with the shared saving and display helpers in :mod:`.plotting`.
Figures are shown with their text alternative (:mod:`.accessible`, the descriptions in
:mod:`.alt_text`), animations behind a Play control.
"""
