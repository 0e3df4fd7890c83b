"""AugSBERT Studio: `streamlit run app.py`.

A thin view over `augsbert_core`: pages read the workspace and the run store, and start jobs that run in
their own worker processes (closing the browser does not stop them)."""

import streamlit as st

from studio import pages, ui

st.set_page_config(page_title="AugSBERT Studio", page_icon=pages.ICON, layout="wide")

page = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=p.key == pages.DEFAULT) for p in pages.PAGES])
ui.sidebar()
page.run()
