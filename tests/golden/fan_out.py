def value_and_grad(a):
    # forward pass
    b = a * a  # a*a
    t1 = b * b  # b*b
    t2 = -b  # -b
    t3 = sigmoid(t2)  # sigmoid(-b)
    out = t1 + t3  # b*b + sigmoid(-b)
    # an overflow that a later step hides is still an error: inf*0.0 is nan
    if b*0.0 != 0.0:
        raise OverflowError('a value overflowed')
    # backward pass: the chain rule, from the output back to the inputs
    grad_out = 1.0
    # out = t1 + t3
    grad_t1 = grad_out  # add: d out/d t1 = 1
    grad_t3 = grad_out  # add: d out/d t3 = 1
    # t3 = sigmoid(t2)
    grad_t2 = grad_t3 * (t3*(1 - t3))  # sigmoid: d t3/d t2 = t3*(1 - t3)
    # t2 = -b
    grad_b = -grad_t2  # neg: d t2/d b = -1
    # t1 = b*b
    grad_b += grad_t1 * b  # mul: d t1/d b = b
    grad_b += grad_t1 * b  # mul: d t1/d b = b
    # b = a*a
    grad_a = grad_b * a  # mul: d b/d a = a
    grad_a += grad_b * a  # mul: d b/d a = a
    return out, (grad_a,)
