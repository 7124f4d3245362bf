"""Overview: what is loaded and how much of it is valid."""

import streamlit as st

from dashboard import state

result = state.inventory()
frame = result.frame
st.title("AI vendor-risk overview")
st.caption(f"{st.session_state['source']} · scenario library as of {state.library().scenarios.as_of:%d %b %Y}")

c1, c2, c3 = st.columns(3)
c1.metric("Deployments (valid)", f"{len(frame):,}")
c2.metric("Annual AI spend", f"${frame['annual_spend_usd'].sum():,.0f}")
c3.metric("Rejected rows", f"{len(result.rejected_lines):,}")

if result.errors:
    st.error(f"{len(result.rejected_lines) or 1} row(s) were rejected and are not assessed. Fix them on the Inventory page.")
    st.dataframe(state.errors_frame(result), hide_index=True, width="stretch")

st.subheader("Spend by channel")
by_channel = frame.groupby("channel")["annual_spend_usd"].agg(["count", "sum"]).rename(
    columns={"count": "deployments", "sum": "annual spend (USD)"})
by_channel["share of spend"] = by_channel["annual spend (USD)"] / max(by_channel["annual spend (USD)"].sum(), 1)
st.dataframe(by_channel, width="stretch",
             column_config={"annual spend (USD)": st.column_config.NumberColumn(format="$%.0f"),
                            "share of spend": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})

st.page_link("pages/inventory.py", label="Load your own inventory", icon=":material/upload:")
