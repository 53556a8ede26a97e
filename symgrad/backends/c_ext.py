"""The C backend's scalar functions as a CPython extension: the entry point, and loading it.

The printed C ends with a section compiled only when the build defines
``SYMGRAD_MODULE`` (the module's name): a ``METH_FASTCALL | METH_KEYWORDS``
function that binds the inputs by position or by the user's names, converts
them with ``PyFloat_AsDouble``, calls the straight-line function and returns
Python floats.  ``Python.h`` comes after the program, so none of its macros can
meet a name of the user's.  Without Python's headers the same text builds as a
plain library for ``ctypes`` (see ``c.load``).
"""

import importlib.machinery
import importlib.util

# The same for every program; the lines printed before it give the names and sizes.
ENTRY_POINT = r"""
typedef struct {
    PyObject *keywords[SYMGRAD_INPUTS + 1];  // the input names, interned
} symgrad_state;

// A real number as a double; TypeError naming the input otherwise (bool is not a number).
static int symgrad_number(PyObject *given, PyObject *name, double *out)
{
    if (PyFloat_CheckExact(given)) {
        *out = PyFloat_AS_DOUBLE(given);
        return 0;
    }
    if (!PyBool_Check(given)) {
        *out = PyFloat_AsDouble(given);
        if (!(*out == -1.0 && PyErr_Occurred()))
            return 0;
        if (!PyErr_ExceptionMatches(PyExc_TypeError))
            return -1;
        PyErr_Clear();
    }
    PyErr_Format(PyExc_TypeError, "input %U must be a real number, not %.100s", name,
                 Py_TYPE(given)->tp_name);
    return -1;
}

// The input called `key`: the interned names match by identity, others by their text.
static Py_ssize_t symgrad_find(symgrad_state *state, PyObject *key)
{
    for (Py_ssize_t j = 0; j < SYMGRAD_INPUTS; j++)
        if (state->keywords[j] == key)
            return j;
    for (Py_ssize_t j = 0; j < SYMGRAD_INPUTS; j++)
        if (PyUnicode_Compare(state->keywords[j], key) == 0)
            return j;
    return -1;
}

static PyObject *symgrad_entry(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    symgrad_state *state = PyModule_GetState(module);
    PyObject *given[SYMGRAD_INPUTS + 1] = {NULL};
    double inputs[SYMGRAD_INPUTS + 1], results[SYMGRAD_OUTPUTS];
    if (nargs > SYMGRAD_INPUTS)
        return PyErr_Format(PyExc_TypeError, "%s() takes %d inputs (%zd given)", SYMGRAD_NAME,
                            SYMGRAD_INPUTS, nargs);
    for (Py_ssize_t j = 0; j < nargs; j++)
        given[j] = args[j];
    Py_ssize_t count = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t j = symgrad_find(state, key);
        if (j < 0)
            return PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                                SYMGRAD_NAME, key);
        if (given[j] != NULL)
            return PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'",
                                SYMGRAD_NAME, key);
        given[j] = args[nargs + k];
    }
    for (Py_ssize_t j = 0; j < SYMGRAD_INPUTS; j++) {
        if (given[j] == NULL)
            return PyErr_Format(PyExc_TypeError, "%s() missing required argument '%U'",
                                SYMGRAD_NAME, state->keywords[j]);
        if (symgrad_number(given[j], state->keywords[j], &inputs[j]) < 0)
            return NULL;
    }
    if (SYMGRAD_FUNCTION(inputs, results)) {
        PyErr_SetString(PyExc_FloatingPointError, "a floating-point exception in the C code");
        return NULL;
    }
#if SYMGRAD_GRADIENTS
    PyObject *grads = PyTuple_New(SYMGRAD_OUTPUTS - 1);
    if (grads == NULL)
        return NULL;
    for (Py_ssize_t i = 1; i < SYMGRAD_OUTPUTS; i++) {
        PyObject *grad = PyFloat_FromDouble(results[i]);
        if (grad == NULL) {
            Py_DECREF(grads);
            return NULL;
        }
        PyTuple_SET_ITEM(grads, i - 1, grad);
    }
    PyObject *value = PyFloat_FromDouble(results[0]);
    PyObject *pair = value == NULL ? NULL : PyTuple_New(2);
    if (pair == NULL) {
        Py_XDECREF(value);
        Py_DECREF(grads);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, value);
    PyTuple_SET_ITEM(pair, 1, grads);
    return pair;
#else
    return PyFloat_FromDouble(results[0]);
#endif
}

static int symgrad_exec(PyObject *module)
{
    symgrad_state *state = PyModule_GetState(module);
    for (Py_ssize_t j = 0; j < SYMGRAD_INPUTS; j++) {
        state->keywords[j] = PyUnicode_InternFromString(symgrad_names[j]);
        if (state->keywords[j] == NULL)
            return -1;
    }
    return 0;
}

static void symgrad_free(void *module)
{
    symgrad_state *state = PyModule_GetState((PyObject *)module);
    for (Py_ssize_t j = 0; state != NULL && j < SYMGRAD_INPUTS; j++)
        Py_CLEAR(state->keywords[j]);
}

static PyMethodDef symgrad_methods[] = {
    {SYMGRAD_NAME, (PyCFunction)(void (*)(void))symgrad_entry, METH_FASTCALL | METH_KEYWORDS,
     symgrad_doc},
    {NULL, NULL, 0, NULL}};
static PyModuleDef_Slot symgrad_slots[] = {{Py_mod_exec, (void *)symgrad_exec}, {0, NULL}};
static struct PyModuleDef symgrad_module = {
    PyModuleDef_HEAD_INIT, "symgrad_c", NULL, sizeof(symgrad_state), symgrad_methods,
    symgrad_slots, NULL, NULL, symgrad_free};

// PyInit_<the module's name>: the build names each module after its source's hash.
#define SYMGRAD_JOIN(a, b) a##b
#define SYMGRAD_INIT(name) SYMGRAD_JOIN(PyInit_, name)
PyMODINIT_FUNC SYMGRAD_INIT(SYMGRAD_MODULE)(void)
{
    return PyModuleDef_Init(&symgrad_module);
}
#endif
"""


def c_string(text):
    """``text`` as a C string literal: printable ASCII as is, other bytes in octal (which,
    unlike hex escapes, never run on into the next character)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else f"\\{b:03o}"
                         for b in text.encode()) + '"'


def entry_point(function, names, outputs, gradients):
    """The C lines of the extension section: ``function`` taking inputs called ``names``."""
    listed = ", ".join([c_string(name) for name in names] + ["NULL"])
    signature = f"{function}($module, {', '.join(names)})" if names else f"{function}($module)"
    returns = ("(value, (gradient per wrt input)) as floats" if gradients else "the value")
    doc = f"{signature}\n--\n\nReturns {returns}."  # a text signature for inspect.signature
    return [
        "",
        "#ifdef SYMGRAD_MODULE",
        "// The CPython entry point, built only as an extension (symgrad/backends/c_ext.py):",
        f"// {function}(*inputs, **inputs) -> {returns}.",
        "// Python.h comes last, so that none of its macros can touch the names above.",
        "#define PY_SSIZE_T_CLEAN",
        "#include <Python.h>",
        "",
        f"#define SYMGRAD_FUNCTION {function}",
        f'#define SYMGRAD_NAME "{function}"',
        f"#define SYMGRAD_INPUTS {len(names)}",
        f"#define SYMGRAD_OUTPUTS {outputs}",
        f"#define SYMGRAD_GRADIENTS {int(gradients)}",
        f"static const char *const symgrad_names[SYMGRAD_INPUTS + 1] = {{{listed}}};",
        f"static const char symgrad_doc[] = {c_string(doc)};",
    ] + ENTRY_POINT.splitlines()


def load(path, name, function):
    """The function ``function`` of the extension module ``name`` built at ``path``."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return getattr(module, function)
