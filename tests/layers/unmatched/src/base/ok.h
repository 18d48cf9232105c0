/* on floor 0 */
