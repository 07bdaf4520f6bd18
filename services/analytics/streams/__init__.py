"""One module per public stream: how its events fold into the 360 (`FOLDS`) and what erasure removes (`erase`)."""
