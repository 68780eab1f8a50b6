"""What the Streamlit app (``streamlit_app.py``) does apart from drawing widgets, so it can be tested alone."""
