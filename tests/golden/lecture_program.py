def value_and_grad(a, b, c, f):
    # forward pass
    e = a * b  # a*b
    d = e + c  # e + c
    L = d * f  # d*f
    # backward pass: the chain rule, from the output back to the inputs
    grad_L = 1.0
    # L = d*f
    grad_d = grad_L * f  # mul: d L/d d = f
    grad_f = grad_L * d  # mul: d L/d f = d
    # d = e + c
    grad_e = grad_d  # add: d d/d e = 1
    grad_c = grad_d  # add: d d/d c = 1
    # e = a*b
    grad_a = grad_e * b  # mul: d e/d a = b
    grad_b = grad_e * a  # mul: d e/d b = a
    return L, (grad_a, grad_b, grad_c, grad_f)
