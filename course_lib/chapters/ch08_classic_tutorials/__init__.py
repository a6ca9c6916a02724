"""Chapter 8 · From the classic tutorials — the tutorials' configurations, weight layouts and mapping tables.

Framework-free. A notebook imports the package and its backend::

    from course_lib import tf as cl
    from course_lib.tf import contrib
    from course_lib.chapters import ch08_classic_tutorials as ch

    ch.PART_0.x_data               # the toy data of hccho2's part 0, as the tutorial had it
    ch.tf1_to_modern(weights, {"cells/0/": ("lstm", 8)})   # TF1 cell weights -> Keras layout

``programs``: each tutorial's vocabulary, tokens, sizes and data, and the small NumPy helpers the
chapter checks its numbers with; ``tasks``: the two real-data tasks (English-French pairs,
ChatbotData); ``weights``: TF1 weight dicts to the modern layout and back. The mapping tables
(TF1 / tfa call -> course_lib call) are Markdown in the chapter's notebooks.
"""

from course_lib.chapters.ch08_classic_tutorials.programs import (  # noqa: F401
    ATTENTION,
    CHATBOT,
    GERON,
    HELLO,
    PART_0,
    PART_1,
    PART_MINUS_1,
    SEQ2SEQ_NOTE,
    Toy,
    chars,
    hand_loss,
    random_translation_data,
)
from course_lib.chapters.ch08_classic_tutorials.tasks import (  # noqa: F401
    ChatTask,
    TranslationTask,
    chatbot_task,
    translation_task,
    words,
)
from course_lib.chapters.ch08_classic_tutorials.weights import (  # noqa: F401
    modern_to_tf1,
    tf1_to_modern,
)
