"""Inventory: upload, template download, validation errors and the valid rows."""

import streamlit as st

from dashboard import state
from risk_models.inventory_import import InventoryFileError
from risk_models.inventory_template import template_csv, template_xlsx

st.title("Inventory")
lib = state.library()

with st.container(border=True):
    st.subheader("Load your own inventory")
    st.caption(f"CSV (comma, semicolon or tab; UTF-8), XLSX or JSON, up to {state.MAX_UPLOAD_MB} MB. "
               "Rows with problems are listed below with line, column and value — never dropped silently.")
    up = st.file_uploader("Inventory file", type=["csv", "txt", "tsv", "xlsx", "json"], key="inventory_upload")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Empty template (CSV)", template_csv(lib), "ai-vendor-risk-inventory-template.csv", "text/csv")
    c2.download_button("Empty template (XLSX)", template_xlsx(lib), "ai-vendor-risk-inventory-template.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if c3.button("Reload the demo organisation"):
        state.reset_to_demo()
        st.rerun()
    if up is not None and st.session_state.get("loaded_upload") != (up.name, up.size):
        try:
            state.set_inventory(state.import_cached(up.getvalue(), up.name), f"Uploaded file {up.name}")
            st.session_state["loaded_upload"] = (up.name, up.size)
        except InventoryFileError as exc:
            st.error(f"{up.name}: {exc}")

result = state.inventory()
st.write(f"**{result.total_rows}** rows read · **{len(result.frame)}** valid · "
         f"**{len(result.rejected_lines)}** rejected")
if result.errors:
    st.error("Rejected rows (fix them in your file and upload again):")
    st.dataframe(state.errors_frame(result), hide_index=True, width="stretch")
st.dataframe(result.frame, hide_index=True, width="stretch")
