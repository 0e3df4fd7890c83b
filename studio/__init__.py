"""App-only helpers of the AugSBERT Studio Streamlit app (layout state, charts, estimates).

Nothing here trains or samples: the app reads and writes the workspace (`$AUGSBERT_HOME`) and the run
store through `augsbert_core`, and starts jobs with `augsbert_core.jobs`. Modules other than `ui` do not
import streamlit, so they can be tested and reused without a running app."""
