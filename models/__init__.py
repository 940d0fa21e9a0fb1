"""Treatment-response models: features, training, persistence, evaluation and SHAP.

Plain Python, no Django import, usable from a notebook. Filled by the next issue; the package exists now so
the layout is fixed. Import it absolutely (``from models.training import ...``): Django apps beside it have
their own ``models.py`` modules.
"""

__all__: list[str] = []
