"""AugSBERT Studio: `streamlit run app.py`.

A thin view over `augsbert_core`: pages read the workspace and the run store, and start jobs that run in
their own worker processes (closing the browser does not stop them)."""

import streamlit as st

from studio import ui

st.set_page_config(page_title="AugSBERT Studio", page_icon=":material/science:", layout="wide")

pages = [
    st.Page(ui.PAGES["home"], title="Start", icon=":material/home:", default=True),
    st.Page(ui.PAGES["data"], title="Data", icon=":material/table_view:"),
    st.Page(ui.PAGES["scenario"], title="Scenario", icon=":material/tune:"),
    st.Page(ui.PAGES["training"], title="Training", icon=":material/model_training:"),
    st.Page(ui.PAGES["silver"], title="Silver labels", icon=":material/label:"),
    st.Page(ui.PAGES["compare"], title="Compare", icon=":material/leaderboard:"),
]
page = st.navigation(pages)
ui.sidebar()
page.run()
