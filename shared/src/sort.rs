//! One stable sort for the lists the page sorts. Each `sort_by` or `sort_by_key` on another element type
//! or with another comparator is one more copy of std's sort in the wasm (there were seven, 31 KB before
//! compression); [`sort_by`] sorts indices instead, so its callers share one copy (1.9 KB brotli less).

use std::cmp::Ordering;

/// Sorts `items` as `slice::sort_by` does (stable: equal items keep their order).
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// `0..len` sorted by `compare`: the one instance of std's sort behind [`sort_by`].
#[inline(never)]
fn sorted_indices(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_std_does_and_keeps_equal_items_in_order() {
        let mut items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        let mut expected = items.clone();
        expected.sort_by_key(|i| i.0);
        sort_by(&mut items, |a, b| a.0.cmp(&b.0));
        assert_eq!(items, expected);
        assert_eq!(items, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
    }

    #[test]
    fn an_empty_list_stays_empty() {
        let mut items: Vec<String> = Vec::new();
        sort_by(&mut items, Ord::cmp);
        assert!(items.is_empty());
    }
}
