"""Views of a Program: step-by-step explanation, drawings, notebook display."""
