"""What a backend prints: an artifact, read by loaders and views instead of its text.

Nothing parses generated code back: what it defines and where each step is are
recorded while printing.
"""

from collections import namedtuple


class Artifact(namedtuple("Artifact", "source entry params outputs lines kind language",
                          defaults=("", "python"))):
    """Printed code for one function of a program.

    ``source``   the module text
    ``entry``    the function to call in it
    ``params``   its parameter names, in order
    ``outputs``  what it returns, in order (names in the source)
    ``lines``    {step key: 1-based line} for the lines views point at; a key is
                 ``("forward", i)`` or ``("backward", i)`` for the program's i-th step
    ``kind``     which function this is (``value_and_grad``, ``batch``, ``loss``...)
    ``language`` ``python`` (compiled with CPython) or ``c``
    """

    __slots__ = ()
