def value_and_grad(a, b, c):
    # forward pass
    t1 = a * b  # a*b
    t2 = t1 + c  # a*b + c
    out = math.tanh(t2)  # tanh(a*b + c)
    # an overflow that a later step hides is still an error: inf*0.0 is nan
    if t1*0.0 + t2*0.0 != 0.0:
        raise OverflowError('a value overflowed')
    # backward pass: the chain rule, from the output back to the inputs
    grad_out = 1.0
    # out = tanh(t2)
    grad_t2 = grad_out * (1 - out**2)  # tanh: d out/d t2 = 1 - out**2
    # t2 = t1 + c
    grad_t1 = grad_t2  # add: d t2/d t1 = 1
    grad_c = grad_t2  # add: d t2/d c = 1
    # t1 = a*b
    grad_a = grad_t1 * b  # mul: d t1/d a = b
    grad_b = grad_t1 * a  # mul: d t1/d b = a
    return out, (grad_a, grad_b, grad_c)
