from multiprocessing import Pool

def mul(a, b):
    return a * b

def plus(a, b):
    return a + b

if __name__ == '__main__':
    with Pool(2) as pool:
        print(pool.starmap(mul, [(1, 2), (3, 4), (5, 6)]))
        results = [pool.apply_async(plus, (i, i)) for i in range(5)]
        print([r.get(timeout=30) for r in results])
        print(pool.starmap_async(plus, [('a', 'b')]).get(timeout=30))
